"""A resident reports a hazard from a phone; the district sees it through; the board shows it."""
import io
import re

import pytest
from PIL import Image

from tests.browser.conftest import PHONE
from tests.browser.test_console import log_in
from tests.factories import make_organiser

pytestmark = pytest.mark.browser


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (800, 600), (180, 60, 40))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at home")
    return out.getvalue()


def test_a_report_goes_from_a_phone_to_rectified_and_onto_the_exposure_board(app, live_server, district,
                                                                               browser):
    with app.app_context():
        make_organiser("handler", "handler-pass-1", handles_reports=True)
    phone = browser.new_context(**PHONE, permissions=["geolocation"],
                                geolocation={"latitude": 30.27, "longitude": 120.15})
    phone.set_default_timeout(10_000)
    resident = phone.new_page()
    resident.goto(f"{live_server}/u/S01C01/report")
    assert "东门社区" in resident.locator(".unit-fixed").inner_text()
    resident.get_by_label("隐患类别").select_option(label="电动自行车违规停放充电")
    resident.get_by_label("具体位置").fill("3栋2单元一楼楼道")
    resident.get_by_label("隐患情况").fill("五六辆电动车在楼道里充电，电线从窗户拉进来，堵住了安全出口。")
    resident.locator('input[name="photo0"]').set_input_files(
        files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps()}])
    resident.locator('.photo-slot[data-slot="0"].has-photo').wait_for()
    assert resident.locator('.photo-slot[data-slot="0"] .photo-preview').evaluate("img => img.naturalWidth") > 0
    resident.get_by_role("button", name="附上我现在的位置").click()
    resident.get_by_text("已附上位置").wait_for()
    assert resident.locator("[data-identity]").is_hidden()  # anonymous by default
    resident.get_by_label("同意隐去个人信息后在“隐患曝光台”公开这个案件").check()
    resident.screenshot(path=str(app.config["UPLOAD_FOLDER"]) + "-form.png", full_page=True)
    resident.get_by_role("button", name="提交隐患报告").click()
    resident.wait_for_url(re.compile(r"/r/c/\w+\?new=1$"))
    code = resident.locator("[data-code]").inner_text()
    resident.screenshot(path=str(app.config["UPLOAD_FOLDER"]) + "-receipt.png", full_page=True)
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}", code)

    tracker = phone.new_page()
    tracker.goto(f"{live_server}/r/track")
    tracker.get_by_label("查询码").fill(code.lower())
    tracker.get_by_role("button", name="查询").click()
    assert tracker.locator(".status").first.inner_text() == "已提交待受理"

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk.set_default_timeout(10_000)
    office = desk.new_page()
    log_in(office, live_server, "handler", "handler-pass-1")
    office.get_by_role("link", name="隐患举报").first.click()
    office.get_by_role("link", name=re.compile(r"^#\d+$")).first.click()
    assert "30.27000" in office.locator(".facts").inner_text()

    def act(to: str, **fields):
        office.get_by_label("办理为").select_option(label=to)
        for label, value in fields.items():
            if label == "整改后照片（提交复核时必填）":
                office.get_by_label(label).set_input_files(
                    files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps()}])
            elif label in ("核查单位", "隐患等级"):
                office.get_by_label(label).select_option(label=value)
            else:
                office.get_by_label(label).fill(value)
        office.get_by_role("button", name="提交", exact=True).click()
        assert office.locator("[data-status]").inner_text() == to

    act("已受理核查中", 核查单位="东街街道 · 东门社区", 隐患等级="一般隐患",
        **{"公开说明（举报人可见）": "已受理，社区网格员今天上门核查。"})
    act("整改中", **{"公开说明（举报人可见）": "情况属实，已责令物业清理楼道、停止飞线充电。"})
    act("整改完成待复核", **{"整改后照片（提交复核时必填）": "", "公开说明（举报人可见）": "电动车已移至集中充电棚。"})
    act("已整改销号", **{"内部备注（举报人看不到）": "网格员复核，照片存档"})

    office.screenshot(path=str(app.config["UPLOAD_FOLDER"]) + "-office.png", full_page=True)
    tracker.reload()
    assert tracker.locator(".status").first.inner_text() == "已整改销号"
    tracker.screenshot(path=str(app.config["UPLOAD_FOLDER"]) + "-tracker.png", full_page=True)
    progress = tracker.locator(".timeline").inner_text()
    assert "社区网格员今天上门核查" in progress and "集中充电棚" in progress
    assert "照片存档" not in progress  # a private note stays inside

    board = phone.new_page()
    board.goto(f"{live_server}/r/board")
    assert "暂时没有公开的案件" in board.content()
    office.get_by_label("公开描述（请去除姓名、门牌号、电话等）").fill("某小区楼道内多辆电动车飞线充电，已整改。")
    office.get_by_role("button", name="审核通过并公开").click()
    board.reload()
    card = board.locator(".exposure").first
    text = card.inner_text()
    assert "某小区楼道内多辆电动车飞线充电" in text and "东街街道" in text
    assert "3栋2单元" not in board.content() and "东门社区" not in text
    images = card.locator("img")
    assert images.count() == 2
    for index in range(2):
        images.nth(index).scroll_into_view_if_needed()
        assert images.nth(index).evaluate("img => img.complete && img.naturalWidth") > 0
    board.screenshot(path=str(app.config["UPLOAD_FOLDER"]) + "-board.png", full_page=True)
    desk.close()
    phone.close()
