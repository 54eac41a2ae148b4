"""在线学习: topics, browsing a topic with its keys, practice with instant feedback, the 错题本."""
import random

from flask import Blueprint, abort, redirect, render_template, request, url_for

from quiz.devices import device_key
from quiz.extensions import db, limiter
from quiz.learn.forms import (
    ShownQuestion,
    ShownQuestionInvalid,
    chosen_keys,
    practice_form_for,
    read_shown,
    sign_shown,
)
from quiz.learn.study import (
    Learner,
    available_questions,
    is_right,
    latest_outcomes,
    mistakes,
    pick_practice_question,
    topic_progress,
    topics,
)
from quiz.models import Question
from quiz.models.learn import PracticeAnswer
from quiz.papers import shuffled_option_keys
from quiz.play.views import current_participant

bp = Blueprint("learn", __name__, url_prefix="/learn")

BROWSE_PER_PAGE = 10
MISTAKES_PER_PAGE = 10
# Ids and page numbers from the query string beyond this overflow the database's integers.
LARGEST_ID = 2**63 - 1
LARGEST_PAGE = 100_000


def current_learner() -> Learner:
    """The person on this phone: their participant once registered, always the phone's key."""
    participant = current_participant()
    return Learner(device_key=device_key(), participant_id=participant.id if participant else None)


def practice_limit_key() -> str:
    """Limit practice answers per phone, not per address: a whole office shares one NAT."""
    return f"learn:{device_key()}"


def topic_or_404(category: str) -> int:
    """The number of studyable questions in a topic; unknown or empty topics are a 404."""
    total = db.session.scalar(available_questions().with_only_columns(db.func.count(Question.id))
                              .where(Question.category == category))
    if not total:
        abort(404, description="没有找到这个学习专题，请从在线学习首页选择。")
    return total


def show_question(question: Question, learner: Learner) -> dict:
    """Shuffle a question's options and seal what is shown for this phone."""
    order = tuple(shuffled_option_keys(question, random.SystemRandom()))
    shown = ShownQuestion(question.id, question.current_version_id, order, learner.device_key)
    return {"question": question, "version": question.current_version, "order": order,
            "shown_token": sign_shown(shown), "error": None}


def own_answer(answer_id: int | None, learner: Learner) -> PracticeAnswer | None:
    """The practice answer to give feedback on, only on the phone and for the person who gave it."""
    if answer_id is None or not 0 < answer_id <= LARGEST_ID:
        return None
    answer = db.session.get(PracticeAnswer, answer_id)
    if answer is None or answer.device_key != learner.device_key or not learner.owns(answer):
        return None
    return answer


class PracticeRefused(Exception):
    """A posted answer that cannot be graded; the message tells the person why."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message, self.status = message, status


def refuse(refusal: PracticeRefused, back_url: str):
    """Say why an answer was refused, and offer the way back."""
    return render_template("learn/refused.html", message=refusal.message,
                           back_url=back_url), refusal.status


def checked_submission(learner: Learner, category: str | None = None):
    """The question, what was shown and the form of a posted answer, trusted only as signed."""
    try:
        shown = read_shown(request.form.get("shown"), learner.device_key)
    except ShownQuestionInvalid:
        raise PracticeRefused("这道题的页面信息无效或已过期，请重新打开题目作答。", 400) from None
    question = db.session.get(Question, shown.question_id)
    if question is None or (category is not None and question.category != category):
        raise PracticeRefused("这道题不属于当前专题，请重新打开题目作答。", 400)
    is_current = (question.is_enabled and not question.is_retired
                  and question.current_version_id == shown.version_id)
    if not is_current:
        raise PracticeRefused("这道题刚刚被更新或停用了，请重新打开题目作答。", 409)
    return question, shown, practice_form_for(question, shown.option_order, formdata=request.form)


def record_answer(learner: Learner, question: Question, shown: ShownQuestion,
                  form) -> PracticeAnswer:
    """Grade and keep one practice answer; it never touches scores or times_drawn."""
    chosen = chosen_keys(form, shown.option_order)
    answer = PracticeAnswer(
        participant_id=learner.participant_id, device_key=learner.device_key,
        question_id=question.id, version_id=shown.version_id, option_order=list(shown.option_order),
        chosen=chosen, is_correct=is_right(question, question.current_version, chosen))
    db.session.add(answer)
    db.session.commit()
    return answer


def screen_again(question: Question, shown: ShownQuestion, form) -> dict:
    """The same question in the same order, with the reason the answer was not taken."""
    errors = form.choice.errors or form.shown.errors or ["答案格式不正确，请重新选择"]
    return {"question": question, "version": question.current_version,
            "order": shown.option_order, "shown_token": form.shown.data, "error": errors[0]}


@bp.route("/")
def index():
    """The topics with their question counts, and the way into the 错题本."""
    learner = current_learner()
    outcomes = latest_outcomes(learner)
    return render_template("learn/index.html", topics=topics(),
                           mistake_count=len(mistakes(learner, outcomes)),
                           answered_count=len(outcomes))


@bp.route("/mistakes", methods=["GET", "POST"])
@limiter.limit("60 per minute", key_func=practice_limit_key, methods=["POST"])
def mistake_book():
    """The 错题本: questions last answered wrong, each retried in place with feedback."""
    learner = current_learner()
    retry = None
    if request.method == "POST":
        try:
            question, shown, form = checked_submission(learner)
        except PracticeRefused as refusal:
            return refuse(refusal, url_for("learn.mistake_book"))
        if form.validate_on_submit():
            answer = record_answer(learner, question, shown, form)
            return redirect(url_for("learn.mistake_book", answered=answer.id,
                                    page=request.args.get("page", type=int)))
        retry = screen_again(question, shown, form)
    feedback = own_answer(request.args.get("answered", type=int), learner)
    book = mistakes(learner)
    total = len(book)
    if feedback is not None:
        # The question just answered shows as feedback above; no second copy below it.
        book = [question for question in book if question.id != feedback.question_id]
    pages = max(1, -(-len(book) // MISTAKES_PER_PAGE))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    on_page = book[(page - 1) * MISTAKES_PER_PAGE: page * MISTAKES_PER_PAGE]
    screens = [show_question(question, learner) for question in on_page
               if retry is None or question.id != retry["question"].id]
    if retry is not None:
        screens.insert(0, retry)  # sent without an answer: first, in the order it was shown
    return render_template("learn/mistakes.html", screens=screens, feedback=feedback,
                           total=total, page=page, pages=pages), 400 if retry is not None else 200


@bp.route("/<category>")
def topic(category: str):
    """A topic's questions with the key marked, the explanation and the source."""
    total = topic_or_404(category)
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= LARGEST_PAGE:
        abort(404, description="没有这一页，请从第一页看起。")
    pagination = db.paginate(
        available_questions().where(Question.category == category).order_by(Question.key),
        page=page, per_page=BROWSE_PER_PAGE, max_per_page=BROWSE_PER_PAGE)
    return render_template("learn/topic.html", category=category, total=total,
                           pagination=pagination)


@bp.route("/<category>/practice", methods=["GET", "POST"])
@limiter.limit("60 per minute", key_func=practice_limit_key, methods=["POST"])
def practice(category: str):
    """One practice question at a time; after each answer, the verdict and why."""
    total = topic_or_404(category)
    learner = current_learner()
    here = url_for("learn.practice", category=category)
    feedback = screen = None
    status = 200
    if request.method == "POST":
        try:
            question, shown, form = checked_submission(learner, category)
        except PracticeRefused as refusal:
            return refuse(refusal, here)
        if form.validate_on_submit():
            answer = record_answer(learner, question, shown, form)
            return redirect(url_for("learn.practice", category=category, answered=answer.id))
        screen, status = screen_again(question, shown, form), 400
    else:
        feedback = own_answer(request.args.get("answered", type=int), learner)
        if feedback is not None and feedback.version.question.category != category:
            feedback = None
    outcomes = latest_outcomes(learner)
    if feedback is None and screen is None:
        question = pick_practice_question(learner, category, random.SystemRandom(), outcomes)
        screen = show_question(question, learner)
    answered, wrong = topic_progress(category, outcomes)
    return render_template("learn/practice.html", category=category, total=total,
                           answered=answered, wrong=wrong, screen=screen,
                           feedback=feedback), status
