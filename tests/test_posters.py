"""Posters and QR codes: links, formats, permissions, the subtree ZIP."""
import io
import time
import zipfile

import zxingcpp
from PIL import Image

from quiz.extensions import db
from quiz.models import Unit
from tests.conftest import csrf_token, login
from tests.factories import make_organiser


def decode(png_bytes: bytes) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png_bytes)))]


def test_posters_need_a_login(client, demo):
    response = client.get("/posters/S01C01/quiz")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get("/posters/S01C01/quiz.png").status_code == 302


def test_poster_page_carries_theme_unit_link_and_a_vector_code(admin_client):
    page = admin_client.get("/posters/S01C01/quiz").get_data(as_text=True)
    assert "人人讲安全、个个会应急" in page and "东街街道 · 东门社区" in page
    assert "localhost/u/S01C01" in page and "微信扫一扫 参加答题" in page
    assert "<svg" in page and "<path" in page
    report = admin_client.get("/posters/S01C01/report").get_data(as_text=True)
    assert "localhost/u/S01C01/report" in report and "随手拍隐患" in report
    assert admin_client.get("/posters/S01C01/other").status_code == 404


def test_png_decodes_to_the_short_link(admin_client):
    response = admin_client.get("/posters/S02C01/quiz.png")
    assert response.mimetype == "image/png"
    assert "attachment" in response.headers["Content-Disposition"]
    assert decode(response.data) == ["http://localhost/u/S02C01"]
    image = Image.open(io.BytesIO(response.data))
    assert image.size[0] >= 400  # big enough to print or forward without blur


def test_svg_is_a_standalone_vector_file(admin_client):
    response = admin_client.get("/posters/S02C01/report.svg")
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith("<svg")
    assert 'fill="white"' in response.get_data(as_text=True) or "white" in response.get_data(as_text=True)


def test_public_base_url_is_printed_when_configured(admin_client, app):
    app.config["PUBLIC_BASE_URL"] = "https://aq.example.gov.cn/"
    response = admin_client.get("/posters/S01C01/quiz.png")
    assert decode(response.data) == ["https://aq.example.gov.cn/u/S01C01"]


def test_unit_organisers_print_only_their_subtree(client, app, demo):
    with app.app_context():
        street = db.session.scalar(db.select(Unit).filter_by(code="S01"))
        make_organiser("street", unit=street, is_admin=False)
    login(client, "street")
    assert client.get("/posters/S01C02/quiz").status_code == 200
    assert client.get("/posters/S02C01/quiz").status_code == 404
    assert client.get("/posters/S02C01/quiz.png").status_code == 404
    listing = client.get("/posters/").get_data(as_text=True)
    assert "东门社区" in listing and "湖滨社区" not in listing
    bulk = client.get("/posters/bulk/S01/quiz").get_data(as_text=True)
    assert bulk.count('class="poster poster-quiz"') == 3  # the street and its two communities
    assert client.get("/posters/bulk/D/quiz").status_code == 404


def test_subtree_zip_is_built_with_progress(admin_client):
    token = csrf_token(admin_client, "/posters/")
    response = admin_client.post("/posters/zip/S02", data={"csrf_token": token})
    assert response.status_code == 302
    progress_url = response.headers["Location"]
    job_id = progress_url.split("/zip/job/")[1].split("?")[0]
    assert "data-zip-bar" in admin_client.get(progress_url).get_data(as_text=True)
    for _ in range(100):
        status = admin_client.get(f"/posters/zip/job/{job_id}/status").json
        if status["finished"]:
            break
        time.sleep(0.1)
    assert status == {"done": 6, "total": 6, "finished": True,
                      "download_url": f"/posters/zip/job/{job_id}/download"}
    download = admin_client.get(status["download_url"])
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    download.close()
    names = sorted(archive.namelist())
    assert len(names) == 12 and "S02C01-湖滨社区-答题二维码.png" in names
    assert decode(archive.read("S02C01-湖滨社区-隐患随手拍二维码.png")) == [
        "http://localhost/u/S02C01/report"]


def test_someone_elses_zip_job_is_not_found(admin_client, app):
    token = csrf_token(admin_client, "/posters/")
    job_url = admin_client.post("/posters/zip/S03", data={"csrf_token": token}).headers["Location"]
    with app.app_context():
        make_organiser("other")
    other = app.test_client()
    login(other, "other")
    assert other.get(job_url).status_code == 404


def test_scan_counts_show_in_the_console(admin_client, client):
    for _ in range(3):
        client.get("/u/S01C01")
    client.get("/u/S01C01/report")
    listing = admin_client.get("/posters/").get_data(as_text=True)
    assert 'data-scans="S01C01-quiz">3 / 3 / 3<' in listing
    assert 'data-scans="S01C01-report">1 / 1 / 1<' in listing
