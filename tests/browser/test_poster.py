"""A printed poster's QR code, read by a real decoder, leads to the right unit and counts."""
import io
import re

import pytest
import zxingcpp
from PIL import Image

from quiz.extensions import db
from quiz.models import LinkPurpose, LinkScan, Unit
from tests.browser.conftest import PHONE
from tests.factories import make_organiser

pytestmark = pytest.mark.browser


def test_poster_qr_code_leads_to_the_units_quiz(app, live_server, district, browser):
    with app.app_context():
        make_organiser("admin", "poster-pass-1")
    desk = browser.new_context(viewport={"width": 1000, "height": 1500}, locale="zh-CN")
    page = desk.new_page()
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("poster-pass-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console/$"))
    page.goto(f"{live_server}/posters/S02C02/quiz")
    poster = page.locator(".poster")
    assert "西湖街道 · 柳岸社区" in poster.inner_text()
    assert "畅通生命通道" in poster.inner_text()
    shot = poster.screenshot()
    codes = [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))]
    assert codes == [f"{live_server}/u/S02C02"]
    desk.close()

    phone = browser.new_context(**PHONE)
    resident = phone.new_page()
    resident.goto(codes[0])
    assert resident.url == f"{live_server}/join/S02C02"
    assert "西湖街道 · 柳岸社区" in resident.locator(".unit-fixed").inner_text()
    phone.close()
    with app.app_context():
        unit_id = db.session.scalar(db.select(Unit.id).filter_by(code="S02C02"))
        scan = db.session.scalar(db.select(LinkScan).filter_by(unit_id=unit_id))
        assert (scan.purpose, scan.count) == (LinkPurpose.QUIZ, 1)


def test_poster_prints_as_one_a4_page(app, live_server, district, browser):
    with app.app_context():
        make_organiser("admin", "poster-pass-1")
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("poster-pass-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console/$"))
    page.goto(f"{live_server}/posters/S01C01/report")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    [box] = re.findall(rb"/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert (round(float(box[0])), round(float(box[1]))) == (595, 842)  # A4 in points
    context.close()
