"""Hazard reports: the public form, photos, the workflow, sealing, exposure, Open311."""
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from PIL import Image

from quiz.extensions import db
from quiz.models import Unit
from quiz.models.report import (
    HazardCategory,
    HazardGrade,
    HazardReport,
    IdentityAccessLog,
    ReporterIdentity,
    ReportPhoto,
    ReportStatus,
    RewardStatus,
)
from quiz.photos import MAX_PHOTO_BYTES, PhotoRefused, clean_photo
from quiz.report_workflow import (
    NewReport,
    WorkflowRefused,
    dispute,
    extend,
    format_code,
    publish,
    read_identity,
    reward_amount,
    reward_step,
    submit_report,
    transition,
)
from quiz.timeutil import local_day, utcnow
from tests import factories
from tests.conftest import csrf_token, login

S = ReportStatus
CODE_IN_URL = re.compile(r"/r/c/([A-Z0-9]+)")


def jpeg_with_metadata(size=(64, 48), orientation: int | None = None) -> bytes:
    """A JPEG carrying GPS coordinates, a camera model, an orientation and a JPEG comment."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "SecretPhone 12"  # Model
    if orientation:
        exif[0x0112] = orientation
    gps = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"home of Zhang San")
    return out.getvalue()


def png_bytes(size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 90, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def people(app, demo):
    """An administrator who handles reports, one who does not, and two unit organisers."""
    with app.app_context():
        east = db.session.scalar(db.select(Unit).filter_by(code="S01"))
        west = db.session.scalar(db.select(Unit).filter_by(code="S02"))
        factories.make_organiser("handler", handles_reports=True)
        factories.make_organiser("plainadmin")
        factories.make_organiser("east", unit=east, is_admin=False)
        factories.make_organiser("west", unit=west, is_admin=False)
    return {}


def client_for(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def form_data(client, url="/r/", **overrides):
    data = {"csrf_token": csrf_token(client, url), "category": "ebike", "unit": "S01C01",
            "place": "3栋2单元一楼楼道", "description": "多辆电动车在楼道内充电，堵住了安全出口。",
            "anonymous": "y", "submission_key": "k" * 24, "photo_tokens": ""}
    page = client.get(url).get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page)
    data["submission_key"] = key.group(1)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def submit(client, **overrides):
    response = client.post("/r/", data=form_data(client, **overrides))
    return response


def the_report() -> HazardReport:
    return db.session.scalars(db.select(HazardReport)).one()


# Photos -------------------------------------------------------------------------------------

def test_a_photo_loses_gps_exif_and_comment_and_is_turned_upright(app):
    with app.app_context():
        original = Image.open(io.BytesIO(jpeg_with_metadata(orientation=6)))
        assert original.getexif().get(0x8825) and original.info.get("comment")
        clean = clean_photo(jpeg_with_metadata(orientation=6))
    stored = Image.open(io.BytesIO(clean.image))
    assert stored.format == "JPEG"
    assert len(stored.getexif()) == 0
    assert "comment" not in stored.info and "exif" not in stored.info and "xmp" not in stored.info
    assert b"Zhang San" not in clean.image and b"SecretPhone" not in clean.image
    assert stored.size == (48, 64)  # orientation 6: the 64x48 photo was taken turned
    assert Image.open(io.BytesIO(clean.thumbnail)).size == (48, 64)


@pytest.mark.parametrize("data, message", [
    (b"<?php system($_GET['c']); ?>", "不是可以识别的照片"),
    (b"%PDF-1.4 not a photo at all", "不是可以识别的照片"),
    (b"", "没有收到照片"),
    (b"\xff\xd8\xff\xe0" + b"\0" * 200, "不是可以识别的照片"),  # a JPEG header and nothing else
])
def test_things_that_are_not_photos_are_refused(app, data, message):
    with app.app_context(), pytest.raises(PhotoRefused, match=message):
        clean_photo(data)


def test_oversized_and_huge_pixel_images_are_refused(app):
    with app.app_context():
        with pytest.raises(PhotoRefused, match="太大"):
            clean_photo(b"\xff\xd8" + b"\0" * (MAX_PHOTO_BYTES + 1))
        bomb = io.BytesIO()
        Image.new("1", (12000, 12000)).save(bomb, "PNG")  # 144 megapixels in a few kilobytes
        assert len(bomb.getvalue()) < 100_000
        with pytest.raises(PhotoRefused, match="像素太多"):
            clean_photo(bomb.getvalue())


def test_the_upload_endpoint_cleans_by_content_not_by_name(client, demo):
    token = csrf_token(client, "/r/")
    response = client.post("/r/photos", data={
        "csrf_token": token,
        "photo": (io.BytesIO(jpeg_with_metadata()), "blob", "application/octet-stream")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    assert response.json["preview"].startswith("data:image/jpeg;base64,")
    refused = client.post("/r/photos", data={
        "csrf_token": token, "photo": (io.BytesIO(b"MZ\x90\x00 not an image"), "photo.jpg", "image/jpeg")},
        content_type="multipart/form-data")
    assert refused.status_code == 422 and "照片" in refused.json["error"]
    no_csrf = client.post("/r/photos", data={"photo": (io.BytesIO(png_bytes()), "a.png")},
                          content_type="multipart/form-data", headers={"X-Requested-With": "fetch"})
    assert no_csrf.status_code == 400 and "页面" in no_csrf.json["error"]


# The form -----------------------------------------------------------------------------------

def test_a_report_with_a_photo_gets_a_code_and_seals_the_reporter(app, client, demo):
    upload = client.post("/r/photos", data={"csrf_token": csrf_token(client, "/r/"),
                                            "photo": (io.BytesIO(jpeg_with_metadata()), "a.jpg")},
                         content_type="multipart/form-data")
    response = submit(client, anonymous=None, name="张三", phone="13800138000", consent="y",
                      photo_tokens=upload.json["token"])
    assert response.status_code == 303
    code = CODE_IN_URL.search(response.headers["Location"]).group(1)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert format_code(code) in page and "已提交待受理" in page
    assert "张三" not in page and "13800138000" not in page
    with app.app_context():
        report = the_report()
        assert report.tracking_code == code and not report.is_anonymous
        assert [photo.token for photo in report.photos] == [upload.json["token"]]
        assert report.photos[0].uploader_key == "attached"  # no link back to the phone
        identity = db.session.scalar(db.select(ReporterIdentity))
        assert (identity.report_id, identity.name, identity.phone) == (report.id, "张三", "13800138000")
        assert report.due_on == local_day(report.submitted_at) + timedelta(days=60)


def test_a_form_sent_twice_makes_one_report(app, client, demo):
    data = form_data(client)
    first = client.post("/r/", data=data)
    second = client.post("/r/", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(HazardReport.id))) == 1


def test_a_photo_of_another_phone_cannot_be_attached(app, client, demo):
    other = app.test_client()
    upload = other.post("/r/photos", data={"csrf_token": csrf_token(other, "/r/"),
                                           "photo": (io.BytesIO(png_bytes()), "a.png")},
                        content_type="multipart/form-data")
    assert submit(client, photo_tokens=upload.json["token"]).status_code == 303
    with app.app_context():
        assert the_report().photos == []


@pytest.mark.parametrize("overrides, message", [
    ({"description": ""}, "请简单描述"),
    ({"description": "长" * 501}, "5 到 500"),
    ({"place": ""}, "请写明隐患在哪里"),
    ({"category": "arson"}, "Not a valid choice"),
    ({"category": None}, "请选择隐患类别"),
    ({"unit": "NOPE"}, "请从列表中选择单位"),
    ({"anonymous": None, "name": "", "phone": ""}, "实名举报请至少留下"),
    ({"anonymous": None, "name": "李四", "phone": "12345"}, "11 位手机号"),
    ({"anonymous": None, "name": "李四", "consent": None}, "需要先勾选同意"),
    ({"latitude": "91", "longitude": "10"}, "位置信息不正确"),
    ({"latitude": "30"}, "位置信息不完整"),
    ({"description": "楼道里\x00\x08有电动车充电"}, "无法识别的字符"),
    ({"submission_key": ""}, "页面已过期"),
])
def test_bad_input_is_refused_in_chinese_and_keeps_what_was_typed(app, client, demo, overrides, message):
    response = submit(client, **overrides)
    page = response.get_data(as_text=True)
    if message == "Not a valid choice":
        message = "选择"  # WTForms' own message, in Chinese through the zh locale
    assert response.status_code == 422 and message in page
    if overrides.get("place") != "":
        assert "3栋2单元一楼楼道" in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(HazardReport.id))) == 0


def test_a_bad_photo_in_a_form_without_javascript_keeps_the_rest(app, client, demo):
    data = form_data(client)
    data["photo0"] = (io.BytesIO(jpeg_with_metadata()), "good.jpg")
    data["photo1"] = (io.BytesIO(b"not a photo"), "bad.jpg")
    response = client.post("/r/", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "第2张照片" in page and "3栋2单元一楼楼道" in page
    token = re.search(r'name="photo_tokens" type="hidden" value="([^"]+)"', page).group(1)
    data = form_data(client, photo_tokens=token)
    assert client.post("/r/", data=data).status_code == 303
    with app.app_context():
        assert [photo.token for photo in the_report().photos] == [token]


def test_script_is_inert_on_every_page_and_in_the_export(app, client, people):
    script = '<script>alert("x")</script>'
    submit(client, place=script, description=f"=HYPERLINK(\"http://evil\") {script}")
    with app.app_context():
        report = the_report()
        code, report_id = report.tracking_code, report.id
    admin = client_for(app, "handler")
    for page in (client.get(f"/r/c/{code}"), admin.get(f"/console/reports/{report_id}"),
                 admin.get("/console/reports/")):
        text = page.get_data(as_text=True)
        assert script not in text and "&lt;script&gt;" in text
    sheet = load_workbook(io.BytesIO(admin.get("/console/reports/export.xlsx").data)).active
    cells = [cell.value for row in sheet.iter_rows() for cell in row if cell.value]
    assert any(str(value).startswith("'=HYPERLINK") for value in cells)
    assert not any(str(value).startswith("=") for value in cells)


def test_the_case_page_keeps_its_own_referrer_policy(app, client, people):
    """Its address holds the tracking code: no link on it may send that code elsewhere."""
    submit(client)
    with app.app_context():
        code = the_report().tracking_code
    headers = client.get(f"/r/c/{code}").headers
    assert headers.getlist("Referrer-Policy") == ["no-referrer"]
    assert headers["X-Frame-Options"] == "DENY"


def test_tracking_codes_are_long_random_and_looked_up_as_typed(app, client, demo):
    for number in range(3):
        submit(client, place=f"地点{number}")
        client.get("/r/")  # a fresh form, a fresh submission key
    with app.app_context():
        codes = [report.tracking_code for report in db.session.scalars(db.select(HazardReport))]
    assert len(set(codes)) == 3 and all(len(code) == 10 for code in codes)
    assert not any(set(code) & set("01OIL") for code in codes)
    typed = f" {codes[0][:5].lower()}-{codes[0][5:]} "
    response = client.post("/r/track", data={"csrf_token": csrf_token(client, "/r/track"), "code": typed})
    assert response.status_code == 303 and codes[0] in response.headers["Location"]
    missing = client.post("/r/track", data={"csrf_token": csrf_token(client, "/r/track"), "code": "ZZZZZZZZZZ"})
    assert missing.status_code == 404 and "没有找到" in missing.get_data(as_text=True)
    assert client.get("/r/c/ZZZZZZZZZZ").status_code == 404


# The workflow -------------------------------------------------------------------------------

def make_report(**fields) -> HazardReport:
    new = NewReport(category=HazardCategory.GAS, place="2号楼", description="燃气管道锈蚀漏气味",
                    unit=db.session.scalar(db.select(Unit).filter_by(code="S01C01")), **fields)
    report, _ = submit_report(new, f"key-{utcnow().timestamp()}-{fields}", [], "device")
    return report


def organiser(username: str):
    from quiz.models import Organiser
    return db.session.scalar(db.select(Organiser).filter_by(username=username))


def accept(report, admin, grade=HazardGrade.GENERAL):
    transition(report, S.VERIFYING, admin, assigned_unit=report.unit, grade=grade)


def rectify(report, actor, app):
    """Verify, rectify with an after-photo, and pass the review."""
    transition(report, S.RECTIFYING, actor)
    after = factories_photo(f"organiser:{actor.id}", app)
    transition(report, S.AWAITING_REVIEW, actor, public_note="已清理楼道，电动车移至车棚",
               after_photo_tokens=[after])


def factories_photo(uploader: str, app) -> str:
    from quiz.models.report import PhotoKind
    from quiz.photos import store_photo

    clean = clean_photo(png_bytes())
    photo = ReportPhoto(token=store_photo(clean), uploader_key=uploader, kind=PhotoKind.AFTER,
                        width=clean.width, height=clean.height, size_bytes=len(clean.image))
    db.session.add(photo)
    db.session.flush()
    return photo.token


def test_a_case_walks_every_state_and_each_step_is_recorded(app, people):
    with app.app_context():
        admin, east = organiser("handler"), organiser("east")
        report = make_report()
        with pytest.raises(WorkflowRefused, match="受理和复核由区级管理员"):
            accept(report, east)
        with pytest.raises(WorkflowRefused, match="核查单位和隐患等级"):
            transition(report, S.VERIFYING, admin)
        accept(report, admin)
        with pytest.raises(WorkflowRefused, match="整改后的照片"):
            transition(report, S.RECTIFYING, east)
            transition(report, S.AWAITING_REVIEW, east, public_note="已整改")
        rectify_from = report.status
        assert rectify_from is S.RECTIFYING and report.reward_status is RewardStatus.ELIGIBLE
        after = factories_photo(f"organiser:{east.id}", app)
        transition(report, S.AWAITING_REVIEW, east, public_note="已整改", after_photo_tokens=[after])
        with pytest.raises(WorkflowRefused, match="受理和复核由区级管理员"):
            transition(report, S.RECTIFIED, east)
        with pytest.raises(WorkflowRefused, match="退回整改需要填写理由"):
            transition(report, S.RECTIFYING, admin)
        transition(report, S.RECTIFIED, admin, public_note="复核合格，销号")
        db.session.commit()
        assert report.closed_at is not None
        steps = [(event.from_status, event.to_status, event.actor_id) for event in report.events]
        assert steps == [(None, S.SUBMITTED, None), (S.SUBMITTED, S.VERIFYING, admin.id),
                         (S.VERIFYING, S.RECTIFYING, east.id), (S.RECTIFYING, S.AWAITING_REVIEW, east.id),
                         (S.AWAITING_REVIEW, S.RECTIFIED, admin.id)]


@pytest.mark.parametrize("start, target", [
    (S.SUBMITTED, S.RECTIFIED), (S.SUBMITTED, S.RECTIFYING), (S.REJECTED, S.VERIFYING),
    (S.RECTIFIED, S.RECTIFYING), (S.UNFOUNDED, S.RECTIFIED), (S.TRANSFERRED, S.VERIFYING),
])
def test_illegal_transitions_are_refused(app, people, start, target):
    with app.app_context():
        report = make_report()
        report.status = start
        with pytest.raises(WorkflowRefused, match="不能转为"):
            transition(report, target, organiser("handler"), reason="测试理由")
        assert report.status is start


def test_reasons_duplicates_and_transfers(app, people):
    with app.app_context():
        admin = organiser("handler")
        first, second, third = make_report(), make_report(), make_report()
        with pytest.raises(WorkflowRefused, match="需要填写理由"):
            transition(first, S.REJECTED, admin)
        with pytest.raises(WorkflowRefused, match="原案件编号"):
            transition(second, S.DUPLICATE, admin, duplicate_of=second)
        transition(second, S.DUPLICATE, admin, duplicate_of=first)
        transition(third, S.DUPLICATE, admin, duplicate_of=second)
        assert third.duplicate_of is first  # a duplicate of a duplicate follows the original
        fourth = make_report()
        with pytest.raises(WorkflowRefused, match="转办的部门"):
            transition(fourth, S.TRANSFERRED, admin)
        transition(fourth, S.TRANSFERRED, admin, transferred_to="燃气主管部门")
        accept(first, admin)
        transition(first, S.RECTIFYING, admin)
        assert first.reward_status is RewardStatus.ELIGIBLE
        assert second.reward_status is RewardStatus.NONE  # only the first reporter of a hazard


def test_a_duplicate_reporter_follows_the_original(app, client, people):
    submit(client)
    client.get("/r/")
    submit(client, place="另一个说法")
    with app.app_context():
        first, second = db.session.scalars(db.select(HazardReport).order_by(HazardReport.id)).all()
        admin = organiser("handler")
        transition(second, S.DUPLICATE, admin, duplicate_of=first)
        accept(first, admin)
        transition(first, S.RECTIFYING, admin, public_note="已责令物业清理")
        db.session.commit()
        code = second.tracking_code
    page = client.get(f"/r/c/{code}").get_data(as_text=True)
    assert "已有人先报告" in page and "整改中" in page and "已责令物业清理" in page


def test_one_extension_of_at_most_thirty_days_that_the_reporter_sees(app, client, people):
    submit(client)
    with app.app_context():
        report, admin = the_report(), organiser("handler")
        due = report.due_on
        with pytest.raises(WorkflowRefused, match="1到30天"):
            extend(report, admin, 31, "设备待采购")
        extend(report, admin, 20, "需要燃气公司停气后施工")
        assert report.due_on == due + timedelta(days=20)
        with pytest.raises(WorkflowRefused, match="只能延期一次"):
            extend(report, admin, 5, "再等等")
        db.session.commit()
        code = report.tracking_code
    page = client.get(f"/r/c/{code}").get_data(as_text=True)
    assert "需要燃气公司停气后施工" in page


def test_overdue_cases_are_flagged_and_filtered(app, people):
    with app.app_context():
        late, fresh = make_report(), make_report()
        late.due_on = late.due_on - timedelta(days=61)
        db.session.commit()
        assert late.is_overdue and not fresh.is_overdue
        late_id = late.id
    admin = client_for(app, "handler")
    page = admin.get("/console/reports/?overdue=y").get_data(as_text=True)
    assert re.findall(r'href="/console/reports/(\d+)"', page) == [str(late_id)]
    assert "status-overdue" in page


def test_the_reporter_disputes_a_closure_once_within_the_window(app, client, people):
    submit(client)
    with app.app_context():
        report, admin = the_report(), organiser("handler")
        accept(report, admin)
        transition(report, S.UNFOUNDED, admin, reason="现场未发现电动车")
        db.session.commit()
        code = report.tracking_code
    page = client.get(f"/r/c/{code}").get_data(as_text=True)
    assert "现场未发现电动车" in page and "申请复查" in page
    token = csrf_token(client, f"/r/c/{code}")
    response = client.post(f"/r/c/{code}/dispute", data={"csrf_token": token, "reason": "晚上十点后才有"})
    assert response.status_code == 303
    with app.app_context():
        report = the_report()
        assert report.status is S.VERIFYING and report.closed_at is None
        transition(report, S.UNFOUNDED, organiser("handler"), reason="夜间复查仍未发现")
        db.session.commit()
        with pytest.raises(WorkflowRefused, match="只能在办结后规定天数内申请一次"):
            dispute(report, "还是有")
    again = client.post(f"/r/c/{code}/dispute", data={"csrf_token": token, "reason": "还是有"})
    assert again.status_code == 409


def test_a_late_dispute_is_refused(app, people):
    with app.app_context():
        report, admin = make_report(), organiser("handler")
        transition(report, S.REJECTED, admin, reason="不属于安全隐患")
        report.closed_at = utcnow() - timedelta(days=app.config["REPORT_DISPUTE_DAYS"] + 2)
        with pytest.raises(WorkflowRefused):
            dispute(report, "不同意")


# Sealing and permissions --------------------------------------------------------------------

def test_only_a_handling_administrator_reads_the_identity_and_the_read_is_logged(app, client, people):
    submit(client, anonymous=None, name="王五", phone="13900139000", consent="y")
    with app.app_context():
        report_id = the_report().id
    east, plain, handler = (client_for(app, name) for name in ("east", "plainadmin", "handler"))
    for organiser_client in (east, plain):
        page = organiser_client.get(f"/console/reports/{report_id}").get_data(as_text=True)
        assert "王五" not in page and "13900139000" not in page and "查看举报人信息" not in page
        response = organiser_client.post(f"/console/reports/{report_id}/identity", data={
            "csrf_token": csrf_token(organiser_client, f"/console/reports/{report_id}"), "reason": "核实情况"})
        assert response.status_code == 403
    token = csrf_token(handler, f"/console/reports/{report_id}")
    no_reason = handler.post(f"/console/reports/{report_id}/identity", data={"csrf_token": token, "reason": ""})
    assert no_reason.status_code == 422 and "王五" not in no_reason.get_data(as_text=True)
    shown = handler.post(f"/console/reports/{report_id}/identity",
                         data={"csrf_token": token, "reason": "电话核实隐患位置"})
    assert shown.status_code == 200 and "王五" in shown.get_data(as_text=True)
    assert "王五" not in handler.get(f"/console/reports/{report_id}").get_data(as_text=True)
    with app.app_context():
        log = db.session.scalars(db.select(IdentityAccessLog)).one()
        assert (log.report_id, log.organiser.username, log.reason) == (report_id, "handler", "电话核实隐患位置")
        with pytest.raises(WorkflowRefused):
            read_identity(the_report(), organiser("plainadmin"), "我想看看")
    sheet = load_workbook(io.BytesIO(handler.get("/console/reports/export.xlsx").data)).active
    assert not any("王五" in str(cell.value) or "13900139000" in str(cell.value)
                   for row in sheet.iter_rows() for cell in row)


def test_a_unit_organiser_sees_only_the_cases_of_their_subtree(app, client, people):
    submit(client, unit="S01C01", place="东门社区某处")
    client.get("/r/")
    submit(client, unit="S02C01", place="湖滨社区某处")
    with app.app_context():
        east_case, west_case = db.session.scalars(db.select(HazardReport).order_by(HazardReport.id)).all()
        east_id, west_id = east_case.id, west_case.id
    east = client_for(app, "east")
    queue = east.get("/console/reports/").get_data(as_text=True)
    assert "东门社区某处" in queue and "湖滨社区某处" not in queue
    assert east.get(f"/console/reports/{west_id}").status_code == 404
    token = csrf_token(east, f"/console/reports/{east_id}")
    assert east.post(f"/console/reports/{west_id}/transition",
                     data={"csrf_token": token, "to": "verifying"}).status_code == 404
    sheet = load_workbook(io.BytesIO(east.get("/console/reports/export.xlsx").data)).active
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [east_id]


def test_case_photos_are_shown_only_to_organisers_who_see_the_case(app, client, people):
    upload = client.post("/r/photos", data={"csrf_token": csrf_token(client, "/r/"),
                                            "photo": (io.BytesIO(png_bytes()), "a.png")},
                         content_type="multipart/form-data")
    submit(client, unit="S01C01", photo_tokens=upload.json["token"])
    url = f"/console/reports/photo/{upload.json['token']}.jpg"
    assert client.get(url).status_code == 302  # not logged in: to the login page
    assert client_for(app, "west").get(url).status_code == 404
    shown = client_for(app, "east").get(f"{url}?size=thumb")
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "private, no-store"
    shown.close()
    assert client.get(f"/r/board/photo/{upload.json['token']}.jpg").status_code == 404


def test_the_console_moves_a_case_and_refuses_illegal_steps_with_409(app, client, people):
    submit(client)
    with app.app_context():
        report_id = the_report().id
        unit_id = db.session.scalar(db.select(Unit.id).filter_by(code="S01C01"))
    admin = client_for(app, "handler")
    url = f"/console/reports/{report_id}"
    token = csrf_token(admin, url)
    missing = admin.post(f"{url}/transition", data={"csrf_token": token, "to": "verifying"})
    assert missing.status_code == 409 and "核查单位和隐患等级" in missing.get_data(as_text=True)
    illegal = admin.post(f"{url}/transition", data={"csrf_token": token, "to": "rectified"})
    assert illegal.status_code == 409 and "不能转为" in illegal.get_data(as_text=True)
    ok = admin.post(f"{url}/transition", data={"csrf_token": token, "to": "verifying",
                                               "assigned_unit": str(unit_id), "grade": "major",
                                               "public_note": "已受理，社区将上门核查"})
    assert ok.status_code == 303
    east = client_for(app, "east")
    files = {"csrf_token": csrf_token(east, url), "to": "rectifying"}
    assert east.post(f"{url}/transition", data=files).status_code == 303
    review = {"csrf_token": csrf_token(east, url), "to": "awaiting_review", "public_note": "已整改",
              "after_photos": (io.BytesIO(jpeg_with_metadata()), "after.jpg")}
    assert east.post(f"{url}/transition", data=review, content_type="multipart/form-data").status_code == 303
    with app.app_context():
        report = the_report()
        assert report.status is S.AWAITING_REVIEW and report.grade is HazardGrade.MAJOR
        assert [photo.kind.value for photo in report.photos] == ["after"]


# Rewards, exposure, Open311 -----------------------------------------------------------------

def test_reward_amounts_follow_the_configured_rule(app, people):
    with app.app_context():
        report = make_report()
        report.grade = HazardGrade.MAJOR
        for fine, expected in ((10_000, "3000.00"), (100_000, "15000.00"), (5_000_000, "300000.00")):
            report.fine_yuan = fine
            assert str(reward_amount(report)) == expected
        report.fine_yuan = None
        with pytest.raises(WorkflowRefused, match="罚款金额"):
            reward_amount(report)
        report.grade = HazardGrade.GENERAL
        assert str(reward_amount(report)) == "200.00"


def test_an_anonymous_reporter_claims_a_reward_with_code_and_phone(app, client, people):
    submit(client)
    with app.app_context():
        report, admin = the_report(), organiser("handler")
        accept(report, admin)
        transition(report, S.RECTIFYING, admin)
        with pytest.raises(WorkflowRefused, match="区级管理员"):
            reward_step(report, organiser("east"), "approve")
        with pytest.raises(WorkflowRefused, match="还没有申领"):
            reward_step(report, admin, "approve")
            reward_step(report, admin, "notify")
            reward_step(report, admin, "pay")
        db.session.commit()
        code = report.tracking_code
    page = client.get(f"/r/c/{code}").get_data(as_text=True)
    assert "申领举报奖励（200.00 元）" in page
    token = csrf_token(client, f"/r/c/{code}")
    refused = client.post(f"/r/c/{code}/claim", data={"csrf_token": token, "phone": ""})
    assert refused.status_code == 409 and "请留下手机号" in refused.get_data(as_text=True)
    assert client.post(f"/r/c/{code}/claim", data={"csrf_token": token, "phone": "13700137000"}).status_code == 303
    with app.app_context():
        report = the_report()
        reward_step(report, organiser("handler"), "pay")
        db.session.commit()
        assert report.reward_status is RewardStatus.PAID
        assert db.session.scalar(db.select(ReporterIdentity.claim_phone)) == "13700137000"


def test_the_exposure_board_shows_only_approved_verified_cases_without_personal_data(app, client, people):
    upload = client.post("/r/photos", data={"csrf_token": csrf_token(client, "/r/"),
                                            "photo": (io.BytesIO(jpeg_with_metadata()), "a.jpg")},
                         content_type="multipart/form-data")
    submit(client, anonymous=None, name="赵六", phone="13600136000", consent="y", allows_publication="y",
           place="3栋2单元门口", photo_tokens=upload.json["token"])
    client.get("/r/")
    submit(client, place="不同意公开的地方")
    photo_url = f"/r/board/photo/{upload.json['token']}.jpg"
    with app.app_context():
        allowed, refused = db.session.scalars(db.select(HazardReport).order_by(HazardReport.id)).all()
        admin = organiser("handler")
        with pytest.raises(WorkflowRefused, match="经核查属实"):
            publish(allowed, admin, "楼道电动车充电")
        accept(allowed, admin)
        accept(refused, admin)
        transition(allowed, S.RECTIFYING, admin)
        transition(refused, S.RECTIFYING, admin)
        with pytest.raises(WorkflowRefused, match="没有同意公开"):
            publish(refused, admin, "不该公开")
        with pytest.raises(WorkflowRefused, match="区级管理员"):
            publish(allowed, organiser("east"), "楼道电动车充电")
        db.session.commit()
    assert "楼道电动车充电" not in client.get("/r/board").get_data(as_text=True)
    assert client.get(photo_url).status_code == 404
    with app.app_context():
        publish(the_allowed := db.session.scalars(db.select(HazardReport).order_by(HazardReport.id)).first(),
                organiser("handler"), "某小区楼道内电动车充电，已整改")
        db.session.commit()
        assert the_allowed.is_published
    board = client.get("/r/board").get_data(as_text=True)
    assert "某小区楼道内电动车充电，已整改" in board and "东街街道" in board
    for private in ("赵六", "13600136000", "3栋2单元门口", "不同意公开的地方", "东门社区"):
        assert private not in board
    assert re.search(r"\d{4}-\d{2}-\d{2}", board) and not re.search(r"\d{2}:\d{2}", board.split("曝光台")[-1])
    photo = client.get(photo_url)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert b"Zhang San" not in photo.data
    photo.close()


def test_open311_reads_only_published_cases_and_submits_with_a_key(app, client, people):
    app.config["OPEN311_API_KEYS"] = ["partner-key"]
    services = client.get("/open311/v2/services.json").json
    assert {service["service_code"] for service in services} == {c.value for c in HazardCategory}
    body = {"service_code": "gas", "description": "小区燃气表箱有异味", "address_string": "湖滨社区5栋",
            "lat": "30.1", "long": "120.2", "first_name": "七", "last_name": "钱", "phone": "13500135000"}
    assert client.post("/open311/v2/requests.json", data=body).status_code == 403
    created = client.post("/open311/v2/requests.json", data={**body, "api_key": "partner-key"},
                          headers={"Idempotency-Key": "partner-0001"})
    again = client.post("/open311/v2/requests.json", data={**body, "api_key": "partner-key"},
                        headers={"Idempotency-Key": "partner-0001"})
    assert created.status_code == again.status_code == 201
    assert created.json[0]["token"] == again.json[0]["token"]
    bad = client.post("/open311/v2/requests.json", data={**body, "api_key": "partner-key", "service_code": "x"})
    assert bad.status_code == 400 and bad.json[0]["code"] == 400
    assert client.get("/open311/v2/requests.json").json == []
    request_id = created.json[0]["service_request_id"]
    assert client.get(f"/open311/v2/requests/{request_id}.json").status_code == 404
    with app.app_context():
        report = the_report()
        assert db.session.scalar(db.select(ReporterIdentity.name)) == "钱 七"
        admin = organiser("handler")
        report.allows_publication = True
        transition(report, S.VERIFYING, admin, grade=HazardGrade.GENERAL,
                   assigned_unit=db.session.scalar(db.select(Unit).filter_by(code="S02C01")))
        transition(report, S.RECTIFYING, admin)
        publish(report, admin, "小区燃气表箱异味，已维修")
        db.session.commit()
    listed = client.get("/open311/v2/requests.json").json
    assert len(listed) == 1 and listed[0]["status"] == "open" and listed[0]["status_notes"] == "整改中"
    assert "钱" not in str(listed) and "13500135000" not in str(listed) and "5栋" not in str(listed)


def test_staff_enter_a_hotline_report_with_the_same_sealing(app, people):
    admin = client_for(app, "handler")
    page = admin.get("/console/reports/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)
    response = admin.post("/console/reports/new", data={
        "csrf_token": csrf_token(admin, "/console/reports/new"), "submission_key": key,
        "channel": "hotline", "category": "life_passage", "unit": "S02C01", "place": "湖滨花园北门",
        "description": "消防车通道被私家车长期占用", "name": "孙八", "phone": "13400134000", "consent": "y"})
    assert response.status_code == 303
    with app.app_context():
        report = the_report()
        assert report.channel.value == "hotline" and report.entered_by.username == "handler"
        assert db.session.scalar(db.select(ReporterIdentity.name)) == "孙八"
        report_id = report.id
    west = client_for(app, "west")
    text = west.get(f"/console/reports/{report_id}").get_data(as_text=True)
    assert "湖滨花园北门" in text and "孙八" not in text and "13400134000" not in text


def test_the_dashboard_counts_cases_by_status_category_grade_and_overdue(app, client, people):
    submit(client, unit="S01C01")
    client.get("/r/")
    submit(client, unit="S02C01", category="gas")
    with app.app_context():
        late = db.session.scalars(db.select(HazardReport).order_by(HazardReport.id)).first()
        late.due_on = late.due_on - timedelta(days=90)
        db.session.commit()
    counts = client_for(app, "handler").get("/console/").get_data(as_text=True)
    assert "已提交待受理 2" in counts and "燃气 1" in counts and "超期未办结 1" in counts
    east = client_for(app, "east").get("/console/").get_data(as_text=True)
    assert "已提交待受理 1" in east and "燃气 0" in east


def test_a_refused_review_leaves_no_photo_files_behind(app, client, people):
    from pathlib import Path

    submit(client)
    with app.app_context():
        report, admin = the_report(), organiser("handler")
        accept(report, admin)
        transition(report, S.RECTIFYING, admin)
        db.session.commit()
        report_id = report.id
    folder = Path(app.config["UPLOAD_FOLDER"])
    before = set(folder.glob("*")) if folder.exists() else set()
    east = client_for(app, "east")
    url = f"/console/reports/{report_id}"
    refused = east.post(f"{url}/transition", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(east, url), "to": "awaiting_review", "public_note": "",
        "after_photos": (io.BytesIO(png_bytes()), "after.png")})
    assert refused.status_code == 409 and "整改后的照片和整改说明" in refused.get_data(as_text=True)
    assert (set(folder.glob("*")) if folder.exists() else set()) == before
