"""The base form every form of the app derives from."""
from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    """A Flask-WTF form (CSRF included) with WTForms' Chinese messages."""

    class Meta:
        locales = ("zh",)
