"""Importing units from a sheet: every bad row named, nothing half-imported unless confirmed."""
import io
import re

from openpyxl import Workbook

from quiz.extensions import db
from quiz.models import Unit
from tests.conftest import csrf_token

HEADER = ["单位名称", "类别", "上级单位", "人数", "联络员姓名", "手机", "电子邮箱"]


def xlsx(rows) -> bytes:
    book = Workbook()
    book.active.append(HEADER)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, filename: str = "units.xlsx"):
    token = csrf_token(client, "/console/units/import")
    return client.post("/console/units/import", data={
        "csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data")


def confirm(client, page: str, good_rows_only: bool = False):
    action = re.search(r'action="(/console/units/import/[^"]+)"', page).group(1)
    data = {"csrf_token": csrf_token(client, "/console/units/import")}
    if good_rows_only:
        data["good_rows_only"] = "1"
    return client.post(action, data=data)


def unit_names(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(db.select(Unit.name)))


def test_a_clean_sheet_imports_with_parents_from_earlier_rows(admin_client, app):
    page = upload(admin_client, xlsx([
        ["北湖街道", "街道", "示范区", 0, "赵强", "13800000001", "zq@example.cn"],
        ["北湖社区", "社区", "北湖街道", 2100, None, None, None],
        ["湖滨社区二", "社区", "S02", 900, None, None, None],
    ])).get_data(as_text=True)
    assert "共 3 行，0 行有错误" in page
    assert "北湖街道" not in unit_names(app)  # nothing until confirmed
    response = confirm(admin_client, page)
    assert response.status_code == 302
    with app.app_context():
        community = db.session.scalar(db.select(Unit).filter_by(name="北湖社区"))
        assert community.parent.name == "北湖街道" and community.headcount == 2100
        assert community.code == community.parent.code + "C01"
        assert community.parent.liaison_name == "赵强"


def test_bad_rows_are_named_and_nothing_is_half_imported(admin_client, app):
    page = upload(admin_client, xlsx([
        ["好单位社区", "社区", "S01", 100, None, None, None],
        ["", "社区", "S01", 100, None, None, None],
        ["坏类别", "村庄", "S01", 100, None, None, None],
        ["找不到上级", "社区", "不存在的街道", 100, None, None, None],
        ["人数不对", "社区", "S01", -3, None, None, None],
        ["手机不对", "社区", "S01", 3, None, "12345", None],
    ])).get_data(as_text=True)
    assert "共 6 行，5 行有错误" in page
    assert re.search(r"第 3 行</td><td[^>]*>请填写单位名称", page)
    assert "第 4 行" in page and "类别应为" in page
    assert "找不到上级单位“不存在的街道”" in page
    assert "人数应为 0 或正整数" in page and "请填写 11 位手机号" in page
    refused = confirm(admin_client, page)
    assert refused.status_code == 302 and "好单位社区" not in unit_names(app)
    confirm(admin_client, page, good_rows_only=True)
    names = unit_names(app)
    assert "好单位社区" in names and "坏类别" not in names


def test_a_gbk_csv_from_excel_imports(admin_client, app):
    data = ("单位名称,类别,上级单位,人数\n新华物业公司,企业,G03,80\n").encode("gb18030")
    page = upload(admin_client, data, "units.csv").get_data(as_text=True)
    assert "共 1 行，0 行有错误" in page
    confirm(admin_client, page)
    assert "新华物业公司" in unit_names(app)


def test_a_file_that_is_not_a_sheet_gets_a_message(admin_client):
    response = upload(admin_client, b"\x89PNG not a workbook", "units.xlsx")
    assert response.status_code == 400
    assert "无法读取这个 Excel 文件" in response.get_data(as_text=True)
    wrong_type = upload(admin_client, b"hello", "units.txt")
    assert wrong_type.status_code == 400
    assert "只支持 .xlsx 或 .csv 文件" in wrong_type.get_data(as_text=True)


def test_unit_organisers_import_only_below_their_unit(client, app, demo):
    from tests.conftest import login
    from tests.factories import make_organiser

    with app.app_context():
        make_organiser("dongjie", unit=db.session.scalar(db.select(Unit).filter_by(code="S01")),
                       is_admin=False)
    login(client, "dongjie")
    page = upload(client, xlsx([["越权社区", "社区", "S02", 10, None, None, None],
                                ["本街道新社区", "社区", "S01", 10, None, None, None]])
                  ).get_data(as_text=True)
    assert "只能在本单位及下级单位之下添加单位" in page
    assert "共 2 行，1 行有错误" in page
