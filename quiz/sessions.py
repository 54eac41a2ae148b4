"""The session cookie, signed and checked as Flask does it, with less repeated work per worker.

- Flask builds a new URLSafeTimedSerializer for every request that reads the cookie; on the
  paper page that was about 0.03 ms of its 1.0 ms of CPU. The serializer is built once per
  worker, and again if the secret keys change.
- A phone sends the same cookie with every request of its visit (the paper page, each saved
  answer, the submission, the result) until the session changes. Checking its signature and
  decoding it took 0.04-0.09 ms a request (bench/results-load.md); a worker now remembers the
  cookies it has checked, until they expire or the keys change.
"""
import copy
import time

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

MAX_REMEMBERED_COOKIES = 10_000  # about 10 MB at most; forgotten all at once beyond it
PLAIN_VALUES = (str, int, bool, float, type(None))


class SessionInterface(SecureCookieSessionInterface):
    def _signing(self, app: Flask) -> tuple[URLSafeTimedSerializer | None, dict]:
        """The serializer for the current keys, and the cookies it has found genuine."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = app.extensions.get("session_serializer")
        if cached is None or cached[0] != keys:
            cached = app.extensions["session_serializer"] = (
                keys, super().get_signing_serializer(app), {})
        return cached[1], cached[2]

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        return self._signing(app)[0]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer, checked = self._signing(app)
        value = request.cookies.get(self.get_cookie_name(app))
        if serializer is None or not value:
            return super().open_session(app, request)
        found = checked.get(value)  # (contents, the time the signature expires)
        if found is None or found[1] < time.time():
            max_age = int(app.permanent_session_lifetime.total_seconds())
            try:
                contents, signed_at = serializer.loads(value, max_age=max_age,
                                                       return_timestamp=True)
            except BadSignature:
                return self.session_class()
            if len(checked) >= MAX_REMEMBERED_COOKIES:
                checked.clear()
            found = checked[value] = (contents, signed_at.timestamp() + max_age)
        contents = found[0]
        # Each request gets its own copy: a view may change a list in place (flashed messages).
        if all(isinstance(item, PLAIN_VALUES) for item in contents.values()):
            return self.session_class(contents)
        return self.session_class(copy.deepcopy(contents))
