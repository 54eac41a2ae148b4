"""Forms a resident fills in: who they are, and their answers."""
from functools import lru_cache

from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from quiz.forms import CONTROL_CHARACTERS, BaseForm, strip_text
from quiz.models import Attempt, QuestionType
from quiz.paper_rows import Paper


class StartForm(BaseForm):
    name = StringField("姓名", filters=[strip_text], validators=[
        DataRequired("请填写姓名"), Length(max=20, message="姓名不能超过 20 个字")])
    phone = StringField("手机号（选填，用于领奖联系）", filters=[strip_text], validators=[
        Optional(), Regexp(r"^1\d{10}$", message="请填写 11 位手机号，或留空")])
    consent = BooleanField("我同意主办单位仅为发放奖品联系我使用此手机号")
    unit = SelectField("所在单位", validate_choice=False, validators=[DataRequired("请选择所在单位")])

    def validate_name(self, field):
        if any(char in CONTROL_CHARACTERS for char in field.data):
            raise ValidationError("姓名中有无法识别的字符")

    def validate_unit(self, field):
        if field.data not in {choice.value for choice in field.choices if choice.value}:
            raise ValidationError("请从列表中选择所在单位")

    def validate_consent(self, field):
        if self.phone.data and not field.data:
            raise ValidationError("留手机号需要先勾选同意；不想留可以清空手机号")


class ContinueForm(BaseForm):
    """A returning person starts again with one tap; the form only carries CSRF."""


class ForgetForm(BaseForm):
    """「不是我」: forget the person recognised on this phone."""

    unit = HiddenField(validators=[Optional(), Length(max=32)])  # the unit page to go back to


def answer_form_for(attempt: Attempt | Paper, formdata=None) -> BaseForm:
    """The answer form of one paper: field q<n> carries displayed option positions only."""
    shape = tuple((item.position, item.content.qtype is QuestionType.MULTIPLE,
                   len(item.option_order)) for item in attempt.questions)
    form_class = answer_form_class(shape)
    return form_class() if formdata is None else form_class(formdata=formdata)


@lru_cache(maxsize=1024)  # a few kilobytes each; a contest paper has a few hundred shapes
def answer_form_class(shape: tuple[tuple[int, bool, int], ...]) -> type[BaseForm]:
    """One form class per paper shape (position, multiple choice?, option count), built once:
    papers of the same shape share it, and building a class per request costs more than the rest
    of the form's work."""

    class AnswerForm(BaseForm):
        class Meta:
            # CSRFProtect has checked the token before the view runs (it checks every POST);
            # a second check here would only sign and verify the same token again.
            csrf = False

    for position, is_multiple, option_count in shape:
        choices = [SelectChoice(str(index), str(index)) for index in range(option_count)]
        field_class = SelectMultipleField if is_multiple else RadioField
        setattr(AnswerForm, f"q{position}", field_class(
            choices=choices, validators=[Optional()], validate_choice=True))
    return AnswerForm


def chosen_keys(form: BaseForm, attempt: Attempt | Paper) -> dict[int, list[str]]:
    """Translate the displayed positions the browser sent back into option keys."""
    answers = {}
    for item in attempt.questions:
        value = form[f"q{item.position}"].data
        positions = value if isinstance(value, list) else ([value] if value else [])
        # A blank ("" or spaces) is no answer; validate_choice has refused anything else.
        answers[item.position] = sorted({item.option_order[int(p)] for p in positions
                                         if isinstance(p, str) and p.strip().isdigit()
                                         and int(p) < len(item.option_order)})
    return answers
