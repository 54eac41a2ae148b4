"""The resident's path over HTTP: attribution, start, paper, submission, result."""
import re
from datetime import timedelta

import pytest

from quiz.extensions import db
from quiz.models import (
    Attempt,
    AttemptStatus,
    LinkScan,
    Participant,
    ParticipantStanding,
    Unit,
    UnitTally,
)
from tests.conftest import csrf_token, refusal_message


def start(client, unit="S01C01", name="张小明", phone="", consent=False):
    token = csrf_token(client, "/")
    data = {"csrf_token": token, "name": name, "phone": phone, "unit": unit}
    if consent:
        data["consent"] = "y"
    return client.post("/start", data=data)


def paper_of(app, token):
    with app.app_context():
        attempt = db.session.scalar(db.select(Attempt).filter_by(token=token))
        return [{"position": item.position, "order": list(item.option_order),
                 "answer": list(item.version.answer), "explanation": item.version.explanation,
                 "source": item.version.source, "multiple": item.version.question.qtype.value == "multiple"}
                for item in attempt.questions]


def answers_form(paper, right=True):
    """Form fields giving displayed positions, all right or all wrong."""
    data = {}
    for item in paper:
        if right:
            positions = [str(item["order"].index(key)) for key in item["answer"]]
        else:
            positions = [str(i) for i, key in enumerate(item["order"]) if key not in item["answer"]][:1]
        data[f"q{item['position']}"] = positions if item["multiple"] else positions[0]
    return data


def attempt_token(response):
    match = re.search(r"/a/([\w-]+)", response.headers["Location"])
    assert match, response.headers.get("Location")
    return match.group(1)


def submit(client, token, data):
    return client.post(f"/a/{token}/submit", data={"csrf_token": csrf_token(client, "/"), **data})


def test_unit_link_counts_the_scan_and_attributes_the_page(client, app, demo):
    response = client.get("/u/S01C01")
    assert response.status_code == 302 and response.headers["Location"] == "/join/S01C01"
    client.get("/u/S01C01/report")
    client.get("/u/S01C01")
    with app.app_context():
        counts = {(scan.unit_id, scan.purpose.value): scan.count
                  for scan in db.session.scalars(db.select(LinkScan))}
        unit_id = db.session.scalar(db.select(Unit.id).filter_by(code="S01C01"))
        assert counts == {(unit_id, "quiz"): 2, (unit_id, "report"): 1}
    page = client.get("/join/S01C01").get_data(as_text=True)
    assert "东街街道 · 东门社区" in page
    assert 'name="unit" value="S01C01"' in page


def test_unknown_unit_gets_a_chinese_404(client, demo):
    response = client.get("/u/NOPE")
    assert response.status_code == 404
    assert client.get("/join/NOPE").status_code == 404
    assert "没有找到这个单位" in response.get_data(as_text=True)


def test_index_offers_every_unit_grouped(client, demo):
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'<optgroup label="西湖街道">\s*<option value="S02">西湖街道</option>'
                     r'\s*<option value="S02C01">湖滨社区</option>', page)
    assert 'data-unit-picker="/api/units"' in page


@pytest.mark.parametrize(("fields", "message"), [
    ({"name": ""}, "请填写姓名"),
    ({"name": "张" * 21}, "姓名不能超过 20 个字"),
    ({"name": "张\x07三"}, "无法识别的字符"),
    ({"phone": "12345"}, "请填写 11 位手机号"),
    ({"phone": "13800138000"}, "留手机号需要先勾选同意"),
    ({"unit": "NOPE"}, "请从列表中选择所在单位"),
    ({"unit": ""}, "请选择所在单位"),
])
def test_bad_start_input_is_refused_with_the_form_kept(client, demo, fields, message):
    data = {"name": "张小明", "phone": "", "unit": "S01C01", **fields}
    response = start(client, **{k: v for k, v in data.items()})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    if fields.get("name", "") != "":
        assert 'value="张小明"' in page or fields.get("name") in page  # what was typed stays
    with client.application.app_context():
        assert db.session.scalar(db.select(db.func.count(Participant.id))) == 0


def test_post_without_csrf_token_is_refused(client, demo):
    response = client.post("/start", data={"name": "张小明", "unit": "S01C01"})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)


def test_start_opens_a_paper_and_remembers_the_person(client, app, demo):
    response = start(client, phone="13800138000", consent=True)
    assert response.status_code == 302
    token = attempt_token(response)
    with app.app_context():
        person = db.session.scalar(db.select(Participant))
        assert (person.name, person.phone, person.unit.code) == ("张小明", "13800138000", "S01C01")
        assert person.phone_consented_at is not None
    again = client.get("/join/S01C01").get_data(as_text=True)
    assert "欢迎回来，张小明" in again and "继续答题" in again
    page = client.get(f"/a/{token}")
    assert page.status_code == 200


def test_paper_page_never_contains_the_key(client, app, demo):
    token = attempt_token(start(client))
    page = client.get(f"/a/{token}").get_data(as_text=True)
    for item in paper_of(app, token):
        assert item["explanation"] not in page
        assert item["source"] not in page
        values = re.findall(rf'name="q{item["position"]}" value="([^"]+)"', page)
        assert values == [str(i) for i in range(len(item["order"]))]  # positions, not keys
    assert "正确答案" not in page


def test_reload_shows_the_same_paper_with_saved_answers(client, app, demo):
    token = attempt_token(start(client))
    paper = paper_of(app, token)
    first = client.get(f"/a/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', first).group(1)
    item = paper[0]
    chosen = str(item["order"].index(item["answer"][0]))
    saved = client.post(f"/a/{token}/save", data={"csrf_token": csrf, "q1": chosen},
                        headers={"X-Requested-With": "fetch"})
    assert saved.status_code == 200 and saved.json["saved"] is True
    second = client.get(f"/a/{token}").get_data(as_text=True)
    assert re.search(rf'name="q1" value="{chosen}"\s+checked', second)
    assert paper_of(app, token) == paper


def test_full_marks_and_the_result_page(client, app, demo):
    token = attempt_token(start(client))
    paper = paper_of(app, token)
    response = submit(client, token, answers_form(paper))
    assert response.status_code == 302 and response.headers["Location"].endswith("/result")
    result = client.get(f"/a/{token}/result").get_data(as_text=True)
    assert "<strong>100</strong>" in result and "合格" in result
    assert "东街街道 · 东门社区</strong> 排第 <strong class=\"big\">1</strong> 名" in result
    for item in paper:
        assert item["explanation"] in result and item["source"] in result
    board = client.get("/board/?kind=community").get_data(as_text=True)
    assert "参与 1 人 · 1 人次" in board


def test_forged_answers_do_not_help(client, app, demo):
    token = attempt_token(start(client))
    paper = paper_of(app, token)
    forged = answers_form(paper, right=False)
    forged.update({"score": "100", "q1_answer": "A", "q99": "0"})
    submit(client, token, forged)
    with app.app_context():
        attempt = db.session.scalar(db.select(Attempt).filter_by(token=token))
        assert attempt.score == 0


def test_out_of_range_answers_are_refused(client, app, demo):
    token = attempt_token(start(client))
    response = submit(client, token, {"q1": "9"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/a/{token}")
    with app.app_context():
        attempt = db.session.scalar(db.select(Attempt).filter_by(token=token))
        assert attempt.status is AttemptStatus.IN_PROGRESS


def test_double_submit_counts_once(client, app, demo):
    token = attempt_token(start(client))
    data = answers_form(paper_of(app, token))
    page = client.get(f"/a/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    for _ in range(2):
        response = client.post(f"/a/{token}/submit", data={"csrf_token": csrf, **data})
        assert response.status_code == 302
    with app.app_context():
        tally = db.session.scalar(db.select(UnitTally))
        standing = db.session.scalar(db.select(ParticipantStanding))
        assert (tally.attempts, tally.points_total, standing.attempts_count) == (1, 100, 1)


def test_the_daily_limit_is_refused_with_a_message(client, demo):
    token = attempt_token(start(client))
    submit(client, token, {})
    csrf = csrf_token(client, "/join/S01C01")
    response = client.post("/start", data={"csrf_token": csrf, "continue": "1"})
    assert response.status_code == 429
    assert "今天的 1 次答题机会已经用完" in response.get_data(as_text=True)


def test_a_late_submission_keeps_only_what_was_saved_in_time(client, app, demo):
    token = attempt_token(start(client))
    data = answers_form(paper_of(app, token))
    with app.app_context():
        attempt = db.session.scalar(db.select(Attempt).filter_by(token=token))
        attempt.deadline_at = attempt.deadline_at - timedelta(minutes=10)
        attempt.started_at = attempt.started_at - timedelta(minutes=10)
        db.session.commit()
    response = submit(client, token, data)
    assert response.headers["Location"].endswith("/result")
    with app.app_context():
        attempt = db.session.scalar(db.select(Attempt).filter_by(token=token))
        assert attempt.is_submitted and attempt.score == 0 and attempt.was_timed_out


def test_someone_elses_paper_is_not_found(client, app, demo):
    token = attempt_token(start(client))
    stranger = app.test_client()
    start(stranger, name="李四")
    assert stranger.get(f"/a/{token}").status_code == 404
    csrf = csrf_token(stranger, "/join/S01C01")
    response = stranger.post(f"/a/{token}/submit", data={"csrf_token": csrf, "q1": "0"})
    assert response.status_code == 404
    assert stranger.get(f"/a/{token}/result").status_code == 404


def test_not_me_forgets_the_person(client, demo):
    start(client)
    csrf = csrf_token(client, "/join/S01C01")
    response = client.post("/forget", data={"csrf_token": csrf, "unit": "S01C01"})
    assert response.headers["Location"].endswith("/join/S01C01")
    assert "欢迎回来" not in client.get("/join/S01C01").get_data(as_text=True)


def test_api_units(client, demo):
    data = client.get("/api/units").json
    community = next(unit for unit in data["units"] if unit["code"] == "S01C01")
    assert community == {"code": "S01C01", "name": "东门社区", "kind": "community",
                         "kind_label": "社区", "parent_code": "S01"}


def test_inactive_unit_is_hidden(client, app, demo):
    with app.app_context():
        db.session.scalar(db.select(Unit).filter_by(code="S01C02")).is_active = False
        db.session.commit()
    assert client.get("/u/S01C02").status_code == 404
    assert client.get("/join/S01C02").status_code == 404
    assert "S01C02" not in {u["code"] for u in client.get("/api/units").json["units"]}


def test_pages_send_security_headers(client, demo):
    for path in ("/join/S01C01", f"/a/{attempt_token(start(client))}"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "private, no-store"
        for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
                     "Referrer-Policy", "Cache-Control"):
            assert len(headers.getlist(name)) == 1, (path, name)


def test_no_page_loads_anything_from_outside(client, demo):
    for url in ("/", "/join/S01C01", "/board/", "/auth/login", "/slogans/", "/r/"):
        page = client.get(url).get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', page), url


def test_paper_requests_are_limited_per_paper_not_per_address(demo, limited_app):
    limited = limited_app
    first, second = limited.test_client(), limited.test_client()  # one NAT address
    tokens = [attempt_token(start(first, name="甲")), attempt_token(start(second, name="乙"))]
    csrf = csrf_token(first, "/")
    statuses = [first.post(f"/a/{tokens[0]}/save", data={"csrf_token": csrf},
                           headers={"X-Requested-With": "fetch"}).status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429
    limited_reply = first.post(f"/a/{tokens[0]}/save", data={"csrf_token": csrf},
                               headers={"X-Requested-With": "fetch"})
    wait = int(limited_reply.headers["Retry-After"])
    assert 50 <= wait <= 60 and limited_reply.json["error"] == refusal_message(wait)
    other = second.post(f"/a/{tokens[1]}/save", data={"csrf_token": csrf_token(second, "/")},
                        headers={"X-Requested-With": "fetch"})
    assert other.status_code == 200


def test_the_session_cookie_is_sent_again_only_when_it_changes(client, app, demo):
    registered = start(client)
    assert "Set-Cookie" in registered.headers  # the person is remembered on this phone
    token = attempt_token(registered)
    client.get(f"/a/{token}")  # the first page also keeps its CSRF secret in the session
    again = client.get(f"/a/{token}")
    assert again.status_code == 200 and "Set-Cookie" not in again.headers
    assert "共 " in again.get_data(as_text=True)  # still recognised: the paper, not a 404


def test_a_new_secret_key_signs_and_checks_the_session_at_once(client, app, demo):
    """The session's serializer is built once per worker (quiz.sessions), but not kept past a
    change of keys: a cookie signed with a retired key counts only while it is a fallback."""
    token = attempt_token(start(client))
    assert client.get(f"/a/{token}").status_code == 200
    old_key = app.secret_key
    app.secret_key = app.config["SECRET_KEY"] = "a-new-key"
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert client.get(f"/a/{token}").status_code == 200  # still this phone's paper
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get(f"/a/{token}").status_code == 404  # the cookie no longer proves it
