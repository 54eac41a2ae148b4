"""The base form every form of the app derives from, and filters the forms share."""
from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import SelectChoice, TextAreaField

CONTROL_CHARACTERS = {chr(code) for code in range(32)} | {chr(127)}
LINE_BREAKS = {"\n", "\r", "\t"}


def choices(pairs) -> list[SelectChoice]:
    """WTForms 3.3 wants SelectChoice objects rather than (value, label) tuples."""
    return [SelectChoice(value, label) for value, label in pairs]


def strip_text(value):
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """A Flask-WTF form (CSRF included) with WTForms' Chinese messages."""

    class Meta:
        locales = ("zh",)

        def wrap_formdata(self, form, formdata):
            # Flask-WTF would read a JSON body as form data; our forms come from HTML forms,
            # and JSON values of any type (lists of objects …) crash WTForms' fields.
            if formdata is _Auto and request.is_json:
                return None
            return super().wrap_formdata(form, formdata)

    def validate(self, extra_validators=None) -> bool:
        """The fields' own rules, then no control characters in any text anywhere.

        Fields name their specific rules; this catches the text fields nobody thought to
        guard (a campaign title, a liaison's name), which would otherwise store a stray
        NUL or ESC that breaks exports, posters and the big screen. Line breaks and tabs are
        allowed only in text areas.
        """
        is_valid = super().validate(extra_validators)
        for field in self:
            if field.errors or not isinstance(field.data, str):
                continue
            allowed = LINE_BREAKS if isinstance(field, TextAreaField) else set()
            if any(char in CONTROL_CHARACTERS - allowed for char in field.data):
                field.errors = [*field.errors, "内容中有无法识别的字符"]
                is_valid = False
        return is_valid
