"""An administrator sets up a unit organiser; the organiser sees their subtree and its numbers."""
import io
import re

import pytest
from openpyxl import load_workbook

from tests.browser.test_quiz_path import answer_current, key_positions, register
from tests.factories import make_organiser

pytestmark = pytest.mark.browser


def log_in(page, base, username, password):
    page.goto(f"{base}/auth/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console/$"))


def test_admin_creates_an_organiser_who_sees_only_their_subtree(app, live_server, district,
                                                                browser, phone):
    with app.app_context():
        make_organiser("admin", "admin-pass-2024")
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                               accept_downloads=True)
    admin = desk.new_page()
    log_in(admin, live_server, "admin", "admin-pass-2024")
    admin.get_by_role("link", name="账号").click()
    admin.get_by_role("link", name="新建账号").click()
    admin.get_by_label("用户名").fill("xihu")
    admin.get_by_label("姓名").fill("西湖街道安办")
    admin.get_by_label("角色").select_option("unit")
    admin.get_by_label("所属单位").select_option(label="西湖街道")
    admin.get_by_label("初始密码（至少 10 位）").fill("xihu-pass-2024")
    admin.get_by_role("button", name="创建").click()
    assert "已创建账号 xihu" in admin.locator(".flash").inner_text()

    organiser_context = browser.new_context(viewport={"width": 1280, "height": 900},
                                            locale="zh-CN", accept_downloads=True)
    organiser = organiser_context.new_page()
    log_in(organiser, live_server, "xihu", "xihu-pass-2024")
    table = organiser.locator("[data-unit-table]")
    codes = table.locator("tr[data-unit]").evaluate_all("rows => rows.map(r => r.dataset.unit)")
    assert sorted(codes) == ["S02", "S02C01", "S02C02"]
    assert organiser.get_by_role("link", name="账号").count() == 0
    assert table.locator('tr[data-unit="S02C01"] [data-col="attempts"]').inner_text() == "0"

    resident = phone.new_page()
    register(resident, live_server, unit="S02C01", name="孙丽")
    token = re.search(r"/a/([\w-]+)", resident.url).group(1)
    for positions in key_positions(app, token):
        answer_current(resident, positions)
        if resident.get_by_role("button", name="下一题").is_visible():
            resident.get_by_role("button", name="下一题").click()
    resident.get_by_role("button", name="交卷").click()
    resident.wait_for_url(re.compile(r"/result$"))

    organiser.reload()
    row = organiser.locator('tr[data-unit="S02C01"]')
    assert row.locator('[data-col="attempts"]').inner_text() == "1"
    assert organiser.locator('tr[data-unit="S02"] [data-col="participants"]').inner_text() == "1"
    with organiser.expect_download() as download:
        organiser.get_by_role("link", name="导出 Excel").click()
    with open(download.value.path(), "rb") as exported:
        book = load_workbook(io.BytesIO(exported.read()))
    rows = {r[2]: r for r in book.active.iter_rows(min_row=4, values_only=True)}
    assert set(rows) == {"S02", "S02C01", "S02C02"}
    assert (rows["S02C01"][6], rows["S02C01"][8], rows["S02C01"][12]) == (1, 1, 100)
    assert (rows["S02"][6], rows["S02"][12]) == (1, 100)

    board = phone.new_page()
    board.goto(f"{live_server}/board/?kind=community")
    assert "参与 1 人 · 1 人次" in board.locator("#unit-S02C01").inner_text()
    desk.close()
    organiser_context.close()
