"""The session cookie and the CSRF token signed from it: each worked out once per worker while
it stays the same, never trusted longer."""
import time

from flask import request
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import CSRF_PATTERN
from tests.test_play import attempt_token, start


def count_signature_checks(monkeypatch) -> list[int]:
    calls = [0]
    loads = URLSafeTimedSerializer.loads

    def counting_loads(self, *args, **kwargs):
        calls[0] += 1
        return loads(self, *args, **kwargs)

    monkeypatch.setattr(URLSafeTimedSerializer, "loads", counting_loads)
    return calls


def test_a_cookie_already_checked_is_not_checked_again(client, demo, monkeypatch):
    token = attempt_token(start(client))
    checks = count_signature_checks(monkeypatch)
    for _ in range(3):
        assert client.get(f"/a/{token}").status_code == 200
    assert checks[0] == 1  # the cookie did not change: the landing page gave its CSRF secret
    assert "Set-Cookie" not in client.get(f"/a/{token}").headers


def test_a_remembered_cookie_still_expires(client, demo, monkeypatch):
    token = attempt_token(start(client))
    assert client.get(f"/a/{token}").status_code == 200
    later = time.time() + 401 * 24 * 3600  # PERMANENT_SESSION_LIFETIME is 400 days
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get(f"/a/{token}").status_code == 404  # no longer this phone's paper


def test_a_forged_cookie_is_not_remembered_as_genuine(client, demo):
    token = attempt_token(start(client))
    genuine = client.get_cookie("session").value
    assert client.get(f"/a/{token}").status_code == 200
    client.set_cookie("session", genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"))
    assert client.get(f"/a/{token}").status_code == 404
    assert client.get(f"/a/{token}").status_code == 404


def test_each_request_gets_its_own_copy_of_a_remembered_session(app):
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = serializer.dumps({"_flashes": [("message", "已保存")], "participant": "x"})
    sessions = []
    for _ in range(2):
        with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
            sessions.append(app.session_interface.open_session(app, request))
    sessions[0]["_flashes"].append(("message", "另一条"))  # as flask.flash() does
    assert sessions[1]["_flashes"] == [("message", "已保存")]


def page_token(client, path: str) -> str:
    return CSRF_PATTERN.search(client.get(path).get_data(as_text=True)).group(1)


def save(client, paper: str, token: str) -> int:
    return client.post(f"/a/{paper}/save", data={"csrf_token": token},
                       headers={"X-Requested-With": "fetch"}).status_code


def test_the_csrf_token_is_signed_once_and_stays_valid(client, app, demo, monkeypatch):
    paper = attempt_token(start(client))
    first = page_token(client, f"/a/{paper}")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 60)  # Flask-WTF would sign anew, later
    assert page_token(client, f"/a/{paper}") == first
    assert save(client, paper, first) == 200
    app.secret_key = app.config["SECRET_KEY"] = "a-new-key"  # sessions and tokens start again
    client.delete_cookie("session")
    paper = attempt_token(start(client, name="李四"))
    renewed = page_token(client, f"/a/{paper}")
    assert renewed != first and save(client, paper, renewed) == 200


def test_with_a_time_limit_every_page_gets_a_fresh_csrf_token(client, app, demo, monkeypatch):
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    paper = attempt_token(start(client))
    first = page_token(client, f"/a/{paper}")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 60)
    later = page_token(client, f"/a/{paper}")
    assert later != first and save(client, paper, later) == 200
