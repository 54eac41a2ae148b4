"""The resident's path: landing page, start, one paper, result."""
from typing import NoReturn

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectChoice

from quiz.attempts import (
    AttemptLimitReached,
    attempts_used_today,
    finish_attempt,
    is_past_grace,
    milliseconds_left,
    new_token,
    open_attempt_of,
    start_or_resume,
)
from quiz.counters import add_to_counter
from quiz.devices import device_limit_key
from quiz.extensions import db, limiter
from quiz.leaderboard import rank_in_unit, unit_rank
from quiz.models import (
    Attempt,
    AttemptQuestion,
    Campaign,
    LinkPurpose,
    LinkScan,
    Participant,
    ParticipantStanding,
    QuestionVersion,
    Unit,
    UnitKind,
)
from quiz.paper_rows import Paper, paper_of, save_answers
from quiz.papers import PaperError
from quiz.play.forms import ContinueForm, ForgetForm, StartForm, answer_form_for, chosen_keys
from quiz.slogan_rules import slogan_of_the_day
from quiz.timeutil import local_day, utcnow

bp = Blueprint("play", __name__)

PARTICIPANT_KEY = "participant"


def active_campaign() -> Campaign:
    campaign = db.session.scalar(db.select(Campaign).where(Campaign.is_active).limit(1))
    if campaign is None:
        abort(404, description="当前没有进行中的答题活动。")
    return campaign


def current_participant() -> Participant | None:
    token = session.get(PARTICIPANT_KEY)
    if not token:
        return None
    return db.session.scalar(db.select(Participant).filter_by(token=token))


def unit_choices() -> list[SelectChoice]:
    """Units a person can answer for, grouped under their street or department."""
    units = db.session.scalars(
        db.select(Unit).where(Unit.is_active, Unit.kind != UnitKind.DISTRICT)
        .order_by(Unit.code)).all()
    choices = [SelectChoice("", "请选择单位")]
    for unit in units:
        top = unit
        while top.parent is not None and top.parent.kind is not UnitKind.DISTRICT:
            top = top.parent
        choices.append(SelectChoice(unit.code, unit.name, optgroup=top.name))
    return choices


def _landing(campaign: Campaign, unit: Unit | None, form: StartForm, status: int = 200,
             limit_message: str | None = None):
    participant = current_participant()
    used = attempts_used_today(campaign, participant, utcnow()) if participant else 0
    open_attempt = open_attempt_of(campaign, participant) if participant else None
    return render_template(
        "play/landing.html", campaign=campaign, unit=unit, form=form,
        participant=participant, continue_form=ContinueForm(), forget_form=ForgetForm(),
        attempts_left=max(0, campaign.attempts_per_day - used), open_attempt=open_attempt,
        limit_message=limit_message, slogan=slogan_of_the_day(local_day(utcnow()))), status


@bp.route("/")
def index():
    """The campaign page without a unit: the person picks their unit."""
    campaign = active_campaign()
    form = StartForm()
    form.unit.choices = unit_choices()
    return _landing(campaign, None, form)


def active_unit_or_404(code: str) -> Unit:
    return db.one_or_404(db.select(Unit).filter_by(code=code, is_active=True),
                         description="没有找到这个单位，请检查二维码或从首页选择单位。")


def count_scan(unit: Unit, purpose: LinkPurpose) -> None:
    add_to_counter(LinkScan, {"unit_id": unit.id, "purpose": purpose, "day": local_day(utcnow())},
                   {"count": 1})
    db.session.commit()


@bp.route("/u/<code>")
def scan_quiz(code: str):
    """The short link on a unit's quiz poster: count the scan, then open the unit's page."""
    count_scan(active_unit_or_404(code), LinkPurpose.QUIZ)
    return redirect(url_for("play.join", code=code))


@bp.route("/u/<code>/report")
def scan_report(code: str):
    """The short link on a unit's hazard-report poster: count the scan, then open the form."""
    count_scan(active_unit_or_404(code), LinkPurpose.REPORT)
    return redirect(url_for("report.new", unit=code))


@bp.route("/join/<code>")
def join(code: str):
    """The campaign page a unit's poster leads to; answers count for that unit."""
    campaign = active_campaign()
    unit = active_unit_or_404(code)
    form = StartForm(unit=unit.code)
    form.unit.choices = unit_choices()
    return _landing(campaign, unit, form)


def attempt_key() -> str:
    """Rate-limit a paper's own requests by the paper, not by the address: a whole
    enterprise answers from behind one NAT address."""
    return f"attempt:{request.view_args.get('token', '')}"


def is_returning_person() -> bool:
    return "continue" in request.form and bool(session.get(PARTICIPANT_KEY))


@bp.route("/start", methods=["POST"])
@limiter.limit("300 per minute")  # generous: a broadcast sends a whole office at once
# A family shares a phone, a script does not: new registrations per phone per day are capped.
@limiter.limit("10 per day", key_func=device_limit_key, exempt_when=is_returning_person)
def start():
    """Register (or recognise) the person and open their paper."""
    campaign = active_campaign()
    participant = current_participant()
    if participant is not None and "continue" in request.form:
        form = ContinueForm()
        if not form.validate_on_submit():
            abort(400)
    else:
        form = StartForm()
        form.unit.choices = unit_choices()
        if not form.validate_on_submit():
            unit = db.session.scalar(db.select(Unit).filter_by(code=form.unit.data or ""))
            return _landing(campaign, unit, form, status=400)
        unit = db.session.scalar(db.select(Unit).filter_by(code=form.unit.data, is_active=True))
        participant = Participant(
            token=new_token(), name=form.name.data, phone=form.phone.data or None,
            unit_id=unit.id, phone_consented_at=utcnow() if form.phone.data else None)
        db.session.add(participant)
        db.session.commit()
        session.permanent = True
        session[PARTICIPANT_KEY] = participant.token
    try:
        attempt = start_or_resume(campaign, participant)
    except AttemptLimitReached:
        form = StartForm(unit=participant.unit.code)
        form.unit.choices = unit_choices()
        message = f"今天的 {campaign.attempts_per_day} 次答题机会已经用完，明天再来吧。"
        return _landing(campaign, participant.unit, form, status=429, limit_message=message)
    except PaperError as error:
        db.session.rollback()
        abort(503, description=f"试卷暂时无法生成，请联系活动组织者。（{error}）")
    return redirect(url_for("play.attempt", token=attempt.token))


@bp.route("/forget", methods=["POST"])
def forget():
    """「不是我」: this phone stops recognising the person."""
    form = ForgetForm()
    if form.validate_on_submit():
        session.pop(PARTICIPANT_KEY, None)
    if form.unit.data:
        return redirect(url_for("play.join", code=form.unit.data))
    return redirect(url_for("play.index"))


def abort_paper_not_found(token: str) -> NoReturn:
    """404, saying whether the paper exists on another phone or not at all."""
    exists = db.session.scalar(db.select(Attempt.id).filter_by(token=token)) is not None
    abort(404, description="没有找到这份试卷，请在答题的手机上打开。" if exists
          else "没有找到这份试卷。")


def own_paper(token: str, for_writing: bool = False) -> Paper:
    """The paper behind a link as plain rows, only for the person whose phone holds it."""
    paper = paper_of(token, session.get(PARTICIPANT_KEY) or "", for_writing)
    if paper is None:
        abort_paper_not_found(token)
    return paper


def own_attempt(token: str) -> Attempt:
    """The attempt behind a link with its questions, versions and campaign, for the result."""
    attempt = db.session.scalar(
        db.select(Attempt).join(Participant, Participant.id == Attempt.participant_id)
        .where(Attempt.token == token, Participant.token == (session.get(PARTICIPANT_KEY) or ""))
        .options(joinedload(Attempt.campaign),
                 selectinload(Attempt.questions).joinedload(AttemptQuestion.version)
                 .joinedload(QuestionVersion.question)))
    if attempt is None:
        abort_paper_not_found(token)
    return attempt


@bp.route("/a/<token>")
@limiter.exempt  # one's own paper: no limit, not even an app-wide one (RATELIMIT_DEFAULT)
def attempt(token: str):
    """The paper: one question per screen with scripts, the whole form without."""
    attempt = own_paper(token)
    if attempt.is_submitted:
        return redirect(url_for("play.result", token=token))
    now = utcnow()
    if is_past_grace(attempt, now):
        finish_attempt(attempt, answers=None, now=now)
        flash("答题时间已到，已按时限内保存的答案交卷。")
        return redirect(url_for("play.result", token=token))
    # The answer form is built when answers arrive; the page only needs its CSRF token.
    return render_template("play/attempt.html", attempt=attempt, campaign=attempt.campaign,
                           ms_left=milliseconds_left(attempt, now))


@bp.route("/a/<token>/save", methods=["POST"])
@limiter.limit("60 per minute", key_func=attempt_key)
def save(token: str):
    """Keep the answers given so far, so a reload or a lost connection loses nothing."""
    attempt = own_paper(token, for_writing=True)
    if attempt.is_submitted:
        return jsonify(error="这份试卷已经交卷。",
                       result_url=url_for("play.result", token=token)), 409
    now = utcnow()
    if is_past_grace(attempt, now):
        return jsonify(error="答题时间已到，不能再修改答案。",
                       result_url=url_for("play.attempt", token=token)), 409
    form = answer_form_for(attempt, formdata=request.form)
    if not form.validate_on_submit():
        return jsonify(error="答案格式不正确，请刷新页面后重试。"), 400
    save_answers(attempt, chosen_keys(form, attempt))
    db.session.commit()
    return jsonify(saved=True, ms_left=milliseconds_left(attempt, now))


@bp.route("/a/<token>/submit", methods=["POST"])
@limiter.limit("20 per minute", key_func=attempt_key)
def submit(token: str):
    """Grade the paper on the server, once, however often it is sent."""
    attempt = own_paper(token, for_writing=True)
    if attempt.is_submitted:
        return redirect(url_for("play.result", token=token))
    form = answer_form_for(attempt, formdata=request.form)
    if not form.validate_on_submit():
        flash("提交的答案格式不正确，请检查后再交卷。")
        return redirect(url_for("play.attempt", token=token))
    outcome = finish_attempt(attempt, chosen_keys(form, attempt))
    if outcome.late:
        flash("交卷时已超过答题时限，只计入时限内保存的答案。")
    return redirect(url_for("play.result", token=token))


@bp.route("/a/<token>/result")
def result(token: str):
    """Score, ranks, and every question with the right answer, explanation and source."""
    attempt = own_attempt(token)
    if not attempt.is_submitted:
        return redirect(url_for("play.attempt", token=token))
    campaign = attempt.campaign
    standing = db.session.scalar(db.select(ParticipantStanding).filter_by(
        campaign_id=campaign.id, participant_id=attempt.participant_id))
    person_rank = rank_in_unit(campaign, standing)
    team_rank = unit_rank(campaign, attempt.unit)
    used = attempts_used_today(campaign, attempt.participant, utcnow())
    return render_template(
        "play/result.html", attempt=attempt, campaign=campaign, standing=standing,
        person_rank=person_rank, team_rank=team_rank,
        attempts_left=max(0, campaign.attempts_per_day - used),
        continue_form=ContinueForm())


@bp.route("/api/units")
def api_units():
    """Active units as JSON, for the unit picker."""
    units = db.session.scalars(db.select(Unit).where(Unit.is_active).order_by(Unit.code)).all()
    codes = {unit.id: unit.code for unit in units}
    response = jsonify(units=[
        {"code": unit.code, "name": unit.name, "kind": unit.kind.value,
         "kind_label": unit.kind.label, "parent_code": codes.get(unit.parent_id)}
        for unit in units])
    response.cache_control.public = True
    response.cache_control.max_age = 60
    return response
