"""Forms for slogan submissions, votes and moderation."""
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from quiz.forms import BaseForm
from quiz.forms import CONTROL_CHARACTERS, strip_text
from quiz.slogan_rules import MAX_LENGTH, MIN_LENGTH, normalise_slogan


class SloganForm(BaseForm):
    text = StringField("标语", filters=[strip_text], validators=[
        DataRequired("请填写标语"),
        Length(min=MIN_LENGTH, max=MAX_LENGTH,
               message=f"标语长度应为 {MIN_LENGTH}–{MAX_LENGTH} 个字")])
    author_name = StringField("署名（选填，公开时只显示姓氏）", filters=[strip_text],
                              validators=[Optional(), Length(max=20, message="署名不能超过 20 个字")])

    def validate_text(self, field):
        if any(char in CONTROL_CHARACTERS for char in field.data):
            raise ValidationError("标语中有无法识别的字符")
        field.data = normalise_slogan(field.data)


class VoteForm(BaseForm):
    """A vote carries only CSRF; the slogan is in the URL."""


class RejectForm(BaseForm):
    reason = StringField("不通过的原因（选填）", filters=[strip_text],
                         validators=[Optional(), Length(max=200)])
