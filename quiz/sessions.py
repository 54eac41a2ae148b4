"""The session cookie, signed as Flask signs it, by a serializer built once per worker.

Flask builds a new URLSafeTimedSerializer for every request that reads the cookie; on the
paper page that was about 0.03 ms of its 1.0 ms of CPU (bench/results-load.md). The secret
keys do not change while a worker runs, but the serializer is still built anew if they do.
"""
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionInterface(SecureCookieSessionInterface):
    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = app.extensions.get("session_serializer")
        if cached is None or cached[0] != keys:
            cached = app.extensions["session_serializer"] = (
                keys, super().get_signing_serializer(app))
        return cached[1]
