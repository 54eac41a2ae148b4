"""The console: permissions, accounts, units, campaigns, leaderboards and exports."""
import io
import random

import pytest
from openpyxl import load_workbook

from quiz.attempts import finish_attempt, start_or_resume
from quiz.extensions import db
from quiz.leaderboard import unit_rows
from quiz.models import Campaign, Organiser, Unit, UnitKind
from tests.conftest import csrf_token, login
from tests.factories import make_organiser, make_participant


def answer_for(app, code: str, name: str, right: bool = True) -> None:
    """One resident of unit `code` takes the active campaign's paper."""
    with app.app_context():
        campaign = db.session.scalar(db.select(Campaign).filter_by(is_active=True))
        unit = db.session.scalar(db.select(Unit).filter_by(code=code))
        attempt = start_or_resume(campaign, make_participant(unit, name), rng=random.Random(5))
        answers = {item.position: (list(item.version.answer) if right else [])
                   for item in attempt.questions}
        finish_attempt(attempt, answers)


def unit_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Unit.id).filter_by(code=code))


def test_console_needs_a_login(client, demo):
    for url in ("/console/", "/console/units", "/console/organisers", "/console/campaigns",
                "/console/export/units.xlsx"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_wrong_password_is_refused_in_chinese(client, app, demo):
    with app.app_context():
        make_organiser("admin")
    response = login(client, "admin", "wrong-password")
    assert response.status_code == 400
    assert "用户名或密码不正确" in response.get_data(as_text=True)


def test_login_is_throttled(app, demo, limited_app):
    with app.app_context():
        make_organiser("admin")
    limited = limited_app.test_client()
    statuses = [login(limited, "admin", "guess-%d" % n).status_code for n in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429


def test_login_ignores_an_outside_next_link(client, app, demo):
    with app.app_context():
        make_organiser("admin")
    token = csrf_token(client, "/auth/login")
    response = client.post("/auth/login?next=//evil.example/x", data={
        "csrf_token": token, "username": "admin", "password": "secret-pass-1"})
    assert response.headers["Location"] == "/console/"


def test_unit_organiser_sees_only_their_subtree(street_client, app):
    answer_for(app, "S02C01", "西湖人")
    answer_for(app, "S01C01", "东门人")
    page = street_client.get("/console/").get_data(as_text=True)
    assert 'data-unit="S01C01"' in page and 'data-unit="S02C01"' not in page
    assert 'data-unit="E01"' not in page
    units = street_client.get("/console/units").get_data(as_text=True)
    assert "东门社区" in units and "湖滨社区" not in units
    assert street_client.get(f"/console/units/{unit_id(app, 'S02C01')}").status_code == 404
    assert street_client.get(f"/console/units/{unit_id(app, 'S01C02')}").status_code == 200
    for url in ("/console/organisers", "/console/campaigns", "/console/slogans"):
        assert street_client.get(url).status_code == 403
    book = load_workbook(io.BytesIO(street_client.get("/console/export/units.xlsx").data))
    names = [row[1] for row in book.active.iter_rows(min_row=4, values_only=True)]
    assert sorted(names) == ["东街街道", "东门社区", "文昌社区"]


def test_unit_organiser_cannot_move_a_unit_out_of_their_subtree(street_client, app):
    target = unit_id(app, "S01C01")
    token = csrf_token(street_client, f"/console/units/{target}")
    response = street_client.post(f"/console/units/{target}", data={
        "csrf_token": token, "name": "东门社区", "kind": "community", "headcount": "3200",
        "parent": str(unit_id(app, "S02")), "is_active": "y"})
    assert response.status_code == 400
    assert "不能选择这个上级单位" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Unit, target).parent.code == "S01"


def test_a_unit_cannot_move_under_its_own_child(admin_client, app):
    street = unit_id(app, "S01")
    token = csrf_token(admin_client, f"/console/units/{street}")
    response = admin_client.post(f"/console/units/{street}", data={
        "csrf_token": token, "name": "东街街道", "kind": "street", "headcount": "0",
        "parent": str(unit_id(app, "S01C01")), "is_active": "y"})
    assert response.status_code == 400


def test_creating_a_unit_with_liaison_and_a_generated_code(admin_client, app):
    token = csrf_token(admin_client, "/console/units/new")
    response = admin_client.post("/console/units/new", data={
        "csrf_token": token, "name": "新华社区", "kind": "community", "headcount": "1500",
        "parent": str(unit_id(app, "S02")), "is_active": "y", "liaison_name": "周敏",
        "liaison_gender": "女", "liaison_mobile": "13900001111", "liaison_email": "zm@example.cn"})
    assert response.status_code == 302
    with app.app_context():
        unit = db.session.scalar(db.select(Unit).filter_by(name="新华社区"))
        assert unit.code == "S02C03" and unit.parent.code == "S02"
        assert (unit.liaison_name, unit.liaison_mobile) == ("周敏", "13900001111")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "请填写单位名称"),
    ("headcount", "-5", "人数应为 0 或正整数"),
    ("code", "东门", "编码只能用字母"),
    ("code", "S01C01", "已被其他单位使用"),
    ("liaison_mobile", "123", "请填写 11 位手机号"),
    ("liaison_email", "not-an-email", "请填写正确的电子邮箱"),
    # No field guards these itself: the base form refuses control characters everywhere.
    ("name", "测试\x00社区", "内容中有无法识别的字符"),
    ("liaison_name", "周\x1b[31m敏", "内容中有无法识别的字符"),
    ("liaison_title", "主任\x7f", "内容中有无法识别的字符"),
])
def test_bad_unit_input_is_refused(admin_client, app, field, value, message):
    token = csrf_token(admin_client, "/console/units/new")
    data = {"csrf_token": token, "name": "测试社区", "kind": "community", "headcount": "10",
            "parent": str(unit_id(app, "S01")), **{field: value}}
    response = admin_client.post("/console/units/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_admin_creates_a_unit_organiser_who_can_log_in(admin_client, app):
    token = csrf_token(admin_client, "/console/organisers/new")
    response = admin_client.post("/console/organisers/new", data={
        "csrf_token": token, "username": "xihu", "display_name": "西湖街道安办",
        "role": "unit", "unit": str(unit_id(app, "S02")), "password": "xihu-pass-2024"})
    assert response.status_code == 302
    organiser = app.test_client()
    assert login(organiser, "xihu", "xihu-pass-2024").status_code == 302
    assert "湖滨社区" in organiser.get("/console/units").get_data(as_text=True)


def test_passwords_are_hashed_reset_and_accounts_disabled(admin_client, app):
    with app.app_context():
        account = make_organiser("liuan", "first-pass-123", unit=db.session.scalar(
            db.select(Unit).filter_by(code="S02C02")), is_admin=False)
        account_id = account.id
        assert "first-pass-123" not in account.password_hash
    user = app.test_client()
    assert login(user, "liuan", "first-pass-123").status_code == 302
    token = csrf_token(admin_client, f"/console/organisers/{account_id}/password")
    mismatch = admin_client.post(f"/console/organisers/{account_id}/password", data={
        "csrf_token": token, "password": "second-pass-456", "confirm": "other"})
    assert mismatch.status_code == 400 and "两次输入的密码不一致" in mismatch.get_data(as_text=True)
    admin_client.post(f"/console/organisers/{account_id}/password", data={
        "csrf_token": token, "password": "second-pass-456", "confirm": "second-pass-456"})
    assert login(app.test_client(), "liuan", "second-pass-456").status_code == 302
    admin_client.post(f"/console/organisers/{account_id}/toggle", data={"csrf_token": token})
    assert user.get("/console/").status_code == 302  # logged out at the next request
    assert login(app.test_client(), "liuan", "second-pass-456").status_code == 400


def test_roll_up_and_metrics(app, demo):
    answer_for(app, "S01C01", "甲")
    answer_for(app, "S01C02", "乙")
    answer_for(app, "S02C01", "丙", right=False)
    with app.app_context():
        campaign = db.session.scalar(db.select(Campaign).filter_by(is_active=True))
        streets = {row.unit.code: row for row in unit_rows(campaign, UnitKind.STREET)}
        assert (streets["S01"].participants, streets["S01"].points_total) == (2, 200)
        assert streets["S01"].headcount == 3200 + 2800
        assert [streets[c].rank for c in ("S01", "S02", "S03")] == [1, 2, 3]
        by_participation = unit_rows(campaign, UnitKind.COMMUNITY, "participation")
        assert by_participation[0].unit.code == "S01C02"  # 1 of 2,800 beats 1 of 3,200
        district = {row.unit.code: row for row in unit_rows(campaign)}["D"]
        assert (district.participants, district.attempts) == (3, 3)


def test_api_leaderboard_is_public_and_masked(client, app, demo):
    answer_for(app, "S01C01", "欧阳明月")
    response = client.get("/api/leaderboard?kind=community")
    assert response.headers["Cache-Control"] in ("public, max-age=5", "max-age=5, public")
    data = response.json
    assert data["totals"]["participants"] == 1
    assert data["units"][0]["code"] == "S01C01" and data["units"][0]["points"] == 100
    assert data["people"] == [{"rank": 1, "name": "欧**月", "unit": "东街街道 · 东门社区",
                               "score": 100, "points": 100, "duration_ms": data["people"][0]["duration_ms"]}]
    assert "欧阳明月" not in response.get_data(as_text=True)
    people = client.get("/board/people").get_data(as_text=True)
    assert "欧**月" in people and "欧阳明月" not in people


def test_export_numbers_and_neutralised_cells(admin_client, app):
    with app.app_context():
        unit = db.session.scalar(db.select(Unit).filter_by(code="E01"))
        unit.name = "=HYPERLINK(\"http://evil.example\",\"点我\")"
        db.session.commit()
    answer_for(app, "E01", "工人甲")
    answer_for(app, "E01", "工人乙", right=False)
    book = load_workbook(io.BytesIO(admin_client.get("/console/export/units.xlsx").data))
    rows = {row[2]: row for row in book.active.iter_rows(min_row=4, values_only=True)}
    enterprise = rows["E01"]
    assert enterprise[1] == "'=HYPERLINK(\"http://evil.example\",\"点我\")"
    assert (enterprise[6], enterprise[8], enterprise[12]) == (2, 2, 100)  # people, attempts, points
    assert rows["G01"][6] == 2  # the department includes its enterprise
    progress = load_workbook(io.BytesIO(admin_client.get("/console/export/progress.xlsx").data))
    lines = [row for row in progress.active.iter_rows(min_row=4, values_only=True)]
    department = next(row for row in lines if row[0] == "区应急管理局")
    assert department[2] == "组织参与全国网上安全知识竞赛（2）人次"


def test_campaign_rules_are_checked_and_frozen_once_answered(admin_client, app):
    with app.app_context():
        campaign_id = db.session.scalar(db.select(Campaign.id).filter_by(is_active=True))
    url = f"/console/campaigns/{campaign_id}"
    token = csrf_token(admin_client, url)
    base = {"csrf_token": token, "year": "2024", "title": "2024年答题", "theme": "畅通生命通道",
            "starts_on": "2024-06-01", "ends_on": "2024-06-30", "consultation_day": "2024-06-16",
            "time_limit_seconds": "150", "attempts_per_day": "1", "pass_mark": "60",
            "scoring_mode": "accumulate", "sections-0-type": "single", "sections-0-count": "5",
            "sections-0-points": "20"}
    too_many = admin_client.post(url, data={**base, "sections-0-count": "50"})
    assert too_many.status_code == 400 and "单选题只有 8 道" in too_many.get_data(as_text=True)
    bad_dates = admin_client.post(url, data={**base, "ends_on": "2024-05-01"})
    assert "结束日期不能早于开始日期" in bad_dates.get_data(as_text=True)
    assert admin_client.post(url, data=base).status_code == 302
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign.paper_sections == [{"type": "single", "category": None, "count": 5, "points": 20}]
    answer_for(app, "S01C01", "答过题的人")
    locked = admin_client.post(url, data={**base, "sections-0-points": "10"})
    assert locked.status_code == 400 and "已经有人答题" in locked.get_data(as_text=True)
    longer = admin_client.post(url, data={**base, "time_limit_seconds": "300"})
    assert longer.status_code == 302


def test_activating_a_campaign_deactivates_the_other(admin_client, app):
    with app.app_context():
        from tests.factories import make_campaign

        other_id = make_campaign("exam", is_active=False, year=2025).id
    token = csrf_token(admin_client, "/console/campaigns")
    admin_client.post(f"/console/campaigns/{other_id}/activate", data={"csrf_token": token})
    with app.app_context():
        active = db.session.scalars(db.select(Campaign).filter_by(is_active=True)).all()
        assert [c.id for c in active] == [other_id]


def test_user_create_command(runner, app, demo):
    result = runner.invoke(args=["user", "create", "nanling", "--unit", "S03",
                                 "--password", "nanling-pass-1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        account = db.session.scalar(db.select(Organiser).filter_by(username="nanling"))
        assert account.unit.code == "S03" and not account.is_admin
    assert runner.invoke(args=["user", "create", "nanling", "--admin", "--password",
                               "another-pass-1"]).exit_code != 0
    assert "no unit" in runner.invoke(args=["user", "create", "x1", "--unit", "NOPE",
                                            "--password", "another-pass-1"]).output



def test_a_unit_form_without_its_parent_field_is_handled_not_crashed(admin_client, street_client, app):
    data = {"name": "无上级的单位", "kind": "community", "headcount": "10"}
    token = csrf_token(admin_client, "/console/units/new")
    assert admin_client.post("/console/units/new", data={"csrf_token": token, **data}).status_code == 302
    with app.app_context():  # an administrator may add a top-level unit
        assert db.session.scalar(db.select(Unit).filter_by(name="无上级的单位")).parent_id is None
    token = csrf_token(street_client, "/console/units/new")
    refused = street_client.post("/console/units/new", data={"csrf_token": token, **data, "name": "街道外的单位"})
    assert refused.status_code == 400 and "不能选择这个上级单位" in refused.get_data(as_text=True)


def test_campaign_zero_is_not_found(admin_client):
    assert admin_client.get("/console/campaigns/0").status_code == 404


def test_control_characters_are_refused_in_any_text_field_but_line_breaks_in_text_areas(app):
    from werkzeug.datastructures import MultiDict
    from wtforms import StringField, TextAreaField

    from quiz.forms import BaseForm

    class NoteForm(BaseForm):
        title = StringField("标题")
        body = TextAreaField("内容")

    with app.test_request_context(method="POST"):
        lines = NoteForm(MultiDict({"title": "通知", "body": "第一行\r\n第二行\t完"}), meta={"csrf": False})
        assert lines.validate(), lines.errors
        broken = NoteForm(MultiDict({"title": "通\n知", "body": "正文\x00"}), meta={"csrf": False})
        assert not broken.validate()
        assert broken.errors == {"title": ["内容中有无法识别的字符"], "body": ["内容中有无法识别的字符"]}
