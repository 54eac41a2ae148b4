"""The session cookie: checked once per worker while it stays the same, never trusted longer."""
import time

from flask import request
from itsdangerous import URLSafeTimedSerializer

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
