"""The practice answer form, and the signed record of the question a phone was shown."""
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from wtforms import HiddenField, RadioField, SelectChoice, SelectMultipleField
from wtforms.validators import DataRequired, InputRequired

from quiz.forms import BaseForm
from quiz.models import Question, QuestionType

# A practice screen left open overnight is still answerable; older ones are refused.
SHOWN_MAX_AGE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ShownQuestion:
    """What the server showed: the question, its version and the option order, for one phone."""

    question_id: int
    version_id: int
    option_order: tuple[str, ...]
    device_key: str


class ShownQuestionInvalid(Exception):
    """The form's record of the shown question is missing, forged, expired or another phone's."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="learn.shown-question")


def sign_shown(shown: ShownQuestion) -> str:
    """Seal what was shown into a token the browser hands back unchanged."""
    return _serializer().dumps({"q": shown.question_id, "v": shown.version_id,
                                "o": list(shown.option_order), "d": shown.device_key})


def read_shown(token: str | None, device_key: str) -> ShownQuestion:
    """Open a token from the form; only this server could have made it, for this phone."""
    if not token:
        raise ShownQuestionInvalid
    try:
        data = _serializer().loads(token, max_age=SHOWN_MAX_AGE_SECONDS)
        shown = ShownQuestion(int(data["q"]), int(data["v"]),
                              tuple(str(key) for key in data["o"]), str(data["d"]))
    except (BadData, KeyError, TypeError, ValueError) as error:
        raise ShownQuestionInvalid from error
    if shown.device_key != device_key:
        raise ShownQuestionInvalid
    return shown


class PracticeForm(BaseForm):
    """One practice answer: the signed shown question and the displayed positions chosen."""

    shown = HiddenField(validators=[DataRequired("页面信息不完整，请重新打开题目")])


def practice_form_for(question: Question, option_order: tuple[str, ...], formdata=None):
    """Build the form of one question: field ``choice`` carries displayed positions only."""

    class QuestionForm(PracticeForm):
        pass

    choices = [SelectChoice(str(position), key) for position, key in enumerate(option_order)]
    field_class = SelectMultipleField if question.qtype is QuestionType.MULTIPLE else RadioField
    QuestionForm.choice = field_class(choices=choices, validate_choice=True,
                                      validators=[InputRequired("请先选择答案再提交")])
    if formdata is None:
        return QuestionForm()
    return QuestionForm(formdata=formdata)


def chosen_keys(form, option_order: tuple[str, ...]) -> list[str]:
    """Translate the displayed positions the browser sent back into option keys."""
    value = form.choice.data
    positions = value if isinstance(value, list) else [value]
    return sorted({option_order[int(position)] for position in positions})
