"""Forms a resident fills in: who they are, and their answers."""
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


def answer_form_for(attempt: Attempt, formdata=None) -> BaseForm:
    """Build the answer form of one paper: field q<n> carries displayed option positions only."""

    class AnswerForm(BaseForm):
        pass

    for item in attempt.questions:
        choices = [SelectChoice(str(index), key) for index, key in enumerate(item.option_order)]
        field_class = SelectMultipleField if item.version.question.qtype is QuestionType.MULTIPLE \
            else RadioField
        setattr(AnswerForm, f"q{item.position}", field_class(
            choices=choices, validators=[Optional()], validate_choice=True))
    if formdata is None:
        return AnswerForm()
    return AnswerForm(formdata=formdata)


def chosen_keys(form: BaseForm, attempt: Attempt) -> dict[int, list[str]]:
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
