"""Item statistics: a question with a wrong key is flagged, a good one is not."""
import itertools
import statistics
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from quiz.extensions import db
from quiz.grading import award_points
from quiz.item_stats import item_statistics
from quiz.models import Attempt, AttemptQuestion, AttemptStatus, Participant, QuestionType
from quiz.timeutil import utcnow
from tests.factories import make_campaign, make_question, make_unit

PEOPLE = 30
_papers = itertools.count(1)


def sit_paper(campaign, unit, picks: list[tuple], status=AttemptStatus.SUBMITTED) -> Attempt:
    """One person's paper: picks are (question, chosen keys or None), 20 points each."""
    now, number = utcnow(), next(_papers)
    person = Participant(token=f"person-{number}", name="张三", unit_id=unit.id)
    attempt = Attempt(token=f"paper-{number}", campaign_id=campaign.id, score=0, participant=person,
                      unit_id=unit.id, day=date(2024, 6, 16),
                      day_seq=1, status=status, deadline_at=now + timedelta(minutes=5),
                      max_score=20 * len(picks))
    for position, (question, chosen) in enumerate(picks, start=1):
        version = question.current_version
        awarded = award_points(question.qtype, version.answer, chosen, 20)
        # Shown in reverse: the stored choice is still in the question's own keys.
        order = [option["key"] for option in reversed(version.options)]
        attempt.questions.append(AttemptQuestion(
            position=position, question_version_id=version.id, points=20, option_order=order,
            chosen=chosen, is_correct=awarded == 20, points_awarded=awarded))
        attempt.score += awarded
    db.session.add(attempt)
    db.session.flush()  # the test commits once, at the end
    return attempt


@pytest.fixture
def papers(ctx):
    """30 people of rising ability; the good item follows ability, the mis-keyed one opposes it."""
    campaign = make_campaign()
    unit = make_unit()
    good = make_question(answer=["B"], key="XF-101")
    # Keyed A in the bank, but C is the true answer: the able people choose C.
    miskeyed = make_question(answer=["A"], key="XF-102")
    fillers = [make_question(key=f"XF-2{j:02d}") for j in range(4)]  # keyed B
    for person in range(PEOPLE):
        picks = [(filler, ["B"] if person >= 5 + 5 * j else ["A"]) for j, filler in enumerate(fillers)]
        picks.append((good, ["B"] if person >= 12 else ["C"] if person % 3 else ["D"]))
        picks.append((miskeyed, ["C"] if person >= 12 else ["A"] if person < 8 else ["D"]))
        if person == 0:
            picks[4] = (good, None)  # ran out of time on it
        sit_paper(campaign, unit, picks)
    # Neither an unfinished paper nor another campaign's count.
    sit_paper(campaign, unit, [(miskeyed, ["A"])], status=AttemptStatus.IN_PROGRESS)
    other = make_campaign(is_active=False, year=2023)
    sit_paper(other, unit, [(miskeyed, ["A"])])
    db.session.commit()
    return {"campaign": campaign, "good": good, "miskeyed": miskeyed}


def test_a_wrong_key_is_flagged_and_a_good_question_is_not(papers):
    stats = {stat.question.key: stat for stat in item_statistics(papers["campaign"].id)}
    miskeyed, good = stats["XF-102"], stats["XF-101"]

    assert (miskeyed.drawn, miskeyed.answered, miskeyed.correct) == (PEOPLE, PEOPLE, 8)
    assert miskeyed.top_wrong == ("C", 18)
    assert miskeyed.key_picks == {"A": 8}
    assert miskeyed.discrimination < -0.5
    assert len(miskeyed.flags) == 2
    assert "区分度为负" in miskeyed.flags[0]
    assert miskeyed.flags[1] == "错误选项 C 被选的次数（18）多于正确答案（8）：请核对答案"

    assert (good.drawn, good.answered, good.correct) == (PEOPLE, PEOPLE - 1, 18)
    assert good.facility == pytest.approx(18 / 29)
    assert good.discrimination > 0.5
    assert good.top_wrong == ("C", 8)
    assert good.flags == []
    assert item_statistics(papers["campaign"].id)[0].question.key == "XF-102"  # flagged first


def test_discrimination_is_the_point_biserial_with_the_rest_of_the_paper(papers):
    items = db.session.scalars(
        db.select(AttemptQuestion).join(Attempt).where(
            Attempt.campaign_id == papers["campaign"].id, Attempt.status == AttemptStatus.SUBMITTED,
            AttemptQuestion.question_version_id == papers["good"].current_version_id)).all()
    answered = [item for item in items if item.chosen]
    assert len(answered) == PEOPLE - 1
    expected = statistics.correlation([float(item.is_correct) for item in answered],
                                      [float(item.attempt.score - item.points_awarded) for item in answered])
    [good] = [s for s in item_statistics(papers["campaign"].id) if s.question.key == "XF-101"]
    assert good.discrimination == pytest.approx(expected)


def test_too_few_answers_flag_nothing(papers):
    stats = item_statistics(papers["campaign"].id, min_answers=PEOPLE + 1)
    assert all(stat.flags == [] for stat in stats)


def test_a_true_false_question_whose_wrong_answer_wins(ctx):
    campaign, unit = make_campaign(), make_unit()
    judge = make_question(QuestionType.JUDGE, answer=["T"], key="RQ-001")
    for person in range(25):
        sit_paper(campaign, unit, [(judge, ["F"] if person < 15 else ["T"])])
    db.session.commit()
    [stat] = item_statistics(campaign.id)
    assert stat.top_wrong == ("F", 15) and stat.option_text("F") == "错误"
    assert stat.discrimination is None  # one question: no rest of the paper to compare with
    assert stat.flags == ["错误选项 F 被选的次数（15）多于正确答案（10）：请核对答案"]


def test_the_number_of_queries_does_not_grow_with_the_questions(papers):
    campaign_id = papers["campaign"].id
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        stats = item_statistics(campaign_id)
        for stat in stats:  # what the page reads
            stat.question.current_version.stem, stat.option_text("A")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(stats) == 6
    assert len(statements) <= 2, statements
