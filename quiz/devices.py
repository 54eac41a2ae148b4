"""A random key per phone, kept in the session cookie, for one-per-person rules."""
import secrets

from flask import session

DEVICE_KEY = "device"


def device_key() -> str:
    """This phone's key, created on first use; nothing about the person is in it."""
    key = session.get(DEVICE_KEY)
    if not key:
        key = secrets.token_urlsafe(16)
        session.permanent = True
        session[DEVICE_KEY] = key
    return key


def device_limit_key() -> str:
    """Rate-limit key of this phone (a script that drops its cookies meets the address limits)."""
    return f"device:{device_key()}"
