"""Forms a resident fills in: who they are, and their answers."""
from dataclasses import dataclass

from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    SelectField,
    StringField,
)
from wtforms.utils import unset_value
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


@dataclass(frozen=True)
class QuestionShape:
    """What checking an answer needs of a question on a paper."""

    position: int
    is_multiple: bool
    option_count: int


class AnswerSheetField(Field):
    """Every answer of one paper in one field: the inputs q1, q2 … that its page posts, each
    carrying displayed option positions ("0", "1" …), checked against the paper's questions.

    One field rather than one per question: binding and validating twenty WTForms fields cost
    about 0.4 ms, a third of a submission's CPU (bench/results-load.md). ``data`` maps each
    position to the option positions chosen, none for a question left blank.
    """

    def __init__(self, *args, _form=None, **kwargs):
        super().__init__(*args, _form=_form, **kwargs)
        self.questions: tuple[QuestionShape, ...] = _form.questions

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors, self.raw_data, self.data = [], [], {}
        if formdata is None:
            return
        for question in self.questions:
            sent = formdata.getlist(f"q{question.position}")
            # A radio button sends one value; of several, the first counts, as the browser's.
            sent = [value for value in (sent if question.is_multiple else sent[:1])
                    if value.strip()]  # a blank is no answer
            self.raw_data.extend(sent)
            valid = {str(index): index for index in range(question.option_count)}
            if any(value not in valid for value in sent):
                self.process_errors.append(f"第 {question.position} 题的选项不存在")
                continue
            self.data[question.position] = sorted({valid[value] for value in sent})


class AnswerForm(BaseForm):
    """The answers to one paper (quiz.play.views.save and submit)."""

    class Meta:
        # CSRFProtect has checked the token before the view runs (it checks every POST);
        # a second check here would only sign and verify the same token again.
        csrf = False

    answers = AnswerSheetField()

    def __init__(self, questions: tuple[QuestionShape, ...], **kwargs):
        self.questions = questions  # read by AnswerSheetField when the form binds it
        super().__init__(**kwargs)


def answer_form_for(attempt: Attempt | Paper, formdata=None) -> AnswerForm:
    """The answer form of one paper."""
    return AnswerForm(tuple(
        QuestionShape(item.position, item.content.qtype is QuestionType.MULTIPLE,
                      len(item.option_order)) for item in attempt.questions), formdata=formdata)


def chosen_keys(form: AnswerForm, attempt: Attempt | Paper) -> dict[int, list[str]]:
    """Translate the displayed positions the browser sent back into option keys."""
    picked = form.answers.data
    return {item.position: sorted({item.option_order[index]
                                   for index in picked.get(item.position, ())})
            for item in attempt.questions}
