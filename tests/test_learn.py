"""在线学习 over HTTP: topics, browsing, practice with feedback, the 错题本 and its owners."""
import random
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest

from quiz.bank_loader import QuestionRecord, _add_version
from quiz.extensions import db
from quiz.learn.forms import _serializer
from quiz.learn.study import Learner, pick_practice_question
from quiz.models import (
    Attempt,
    DailyTally,
    Participant,
    ParticipantStanding,
    Question,
    QuestionType,
    UnitTally,
)
from quiz.models.learn import PracticeAnswer
from quiz.timeutil import utcnow
from tests import factories
from tests.conftest import csrf_token

FIRE = "消防安全"
SHOWN_PATTERN = re.compile(r'name="shown" value="([^"]+)"')


@dataclass
class Screen:
    """A practice question as the phone received it, and the positions to tap."""

    shown: str
    csrf: str
    question_id: int
    right: list[str]
    wrong: list[str]


def read_screens(app, page: str) -> list[Screen]:
    """Every answerable question on a page; the test peeks at the signed order to know the key."""
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    screens = []
    with app.app_context():
        for shown in SHOWN_PATTERN.findall(page):
            data = _serializer().loads(shown)
            answer = db.session.get(Question, data["q"]).current_version.answer
            screens.append(Screen(
                shown=shown, csrf=csrf, question_id=data["q"],
                right=[str(data["o"].index(key)) for key in answer],
                wrong=[str(position) for position, key in enumerate(data["o"])
                       if key not in answer][:1]))
    return screens


def practice_screen(client, app, category: str = FIRE) -> Screen:
    response = client.get(f"/learn/{category}/practice")
    assert response.status_code == 200
    (screen,) = read_screens(app, response.get_data(as_text=True))
    return screen


def answer(client, screen: Screen, positions, url: str = f"/learn/{FIRE}/practice"):
    return client.post(url, data={"csrf_token": screen.csrf, "shown": screen.shown,
                                  "choice": positions})


def answer_wrong(client, app, category: str = FIRE) -> int:
    """Practise one question wrong; return its id."""
    screen = practice_screen(client, app, category)
    assert answer(client, screen, screen.wrong, f"/learn/{category}/practice").status_code == 302
    return screen.question_id


def book_ids(client, app) -> set[int]:
    page = client.get("/learn/mistakes").get_data(as_text=True)
    return {screen.question_id for screen in read_screens(app, page)} if "name=\"shown\"" in page \
        else set()


def register(client, name: str = "张小明"):
    """Register on the quiz landing page; returns the response opening the paper."""
    token = csrf_token(client, "/join/S01C01")
    return client.post("/start", data={"csrf_token": token, "name": name, "unit": "S01C01"})


def submit_paper(client, app, attempt_url: str, right: bool) -> list[int]:
    """Submit the open paper all right or all wrong; return its question ids."""
    token = re.search(r"/a/([\w-]+)", attempt_url).group(1)
    data, ids = {}, []
    with app.app_context():
        attempt = db.session.scalar(db.select(Attempt).filter_by(token=token))
        for item in attempt.questions:
            keys = item.version.answer if right else [
                key for key in item.option_order if key not in item.version.answer][:1]
            positions = [str(item.option_order.index(key)) for key in keys]
            multiple = item.version.question.qtype is QuestionType.MULTIPLE
            data[f"q{item.position}"] = positions if multiple else positions[0]
            ids.append(item.version.question_id)
    csrf = csrf_token(client, "/join/S01C01")
    response = client.post(f"/a/{token}/submit", data={"csrf_token": csrf, **data})
    assert response.headers["Location"].endswith("/result")
    return ids


def new_version(question: Question, stem: str) -> None:
    """Edit a question the way the bank loader does: a new current version."""
    current = question.current_version
    record = QuestionRecord(
        key=question.key, category=question.category, qtype=question.qtype, difficulty=1,
        stem=stem, options=current.options, answer=current.answer,
        explanation=current.explanation, source=current.source)
    _add_version(question, record, number=current.version + 1)
    db.session.commit()


# Topics and browsing


def test_topics_list_only_studyable_questions_with_counts(client, ctx):
    factories.make_bank(singles=3, multiples=1, judges=1, category=FIRE)
    retired = factories.make_question(category=FIRE)
    retired.is_retired = True
    factories.make_question(category="燃气安全").is_enabled = False
    db.session.commit()
    page = client.get("/learn/").get_data(as_text=True)
    assert f"{FIRE} <span class=\"topic-count\">5 题</span>" in page
    assert "燃气安全" not in page
    assert f'href="/learn/{FIRE}/practice"' in page.replace("%E6%B6%88%E9%98%B2%E5%AE%89%E5%85%A8",
                                                            FIRE)
    assert "暂无错题" in page


@pytest.mark.parametrize("url", ["/learn/燃气安全", "/learn/没有这个专题",
                                 "/learn/没有这个专题/practice"])
def test_unknown_or_disabled_topics_are_a_chinese_404(client, ctx, url):
    factories.make_question(category="燃气安全").is_enabled = False
    db.session.commit()
    response = client.get(url)
    assert response.status_code == 404
    assert "没有找到这个学习专题" in response.get_data(as_text=True)


def test_a_topic_shows_keys_explanations_and_sources_page_by_page(client, ctx):
    questions = [factories.make_question(category=FIRE, key=f"XF-{n:03d}") for n in range(1, 13)]
    first, last = questions[0].current_version, questions[-1].current_version
    page_one = client.get(f"/learn/{FIRE}").get_data(as_text=True)
    assert first.stem in page_one and last.stem not in page_one
    assert first.explanation in page_one and first.source in page_one
    # The key (B for these singles) is the option marked as the right answer.
    marked = re.search(r'<li class="is-key\s*">\s*<span class="option-letter">(\w)</span>\s*'
                       r'<span class="option-text">([^<]+)</span>', page_one)
    assert marked.groups() == ("B", first.option_text("B"))
    assert "第 1 / 2 页" in page_one
    page_two = client.get(f"/learn/{FIRE}?page=2").get_data(as_text=True)
    assert last.stem in page_two and first.stem not in page_two
    for page in (9, 0, 2**70):
        response = client.get(f"/learn/{FIRE}?page={page}")
        assert response.status_code == 404, page


@pytest.mark.parametrize("answered", ["abc", "-1", "0", str(2**70)])
def test_an_odd_feedback_id_shows_no_feedback(client, app, ctx, answered):
    factories.make_bank(singles=2, multiples=0, judges=0)
    for url in (f"/learn/{FIRE}/practice", "/learn/mistakes"):
        response = client.get(f"{url}?answered={answered}")
        assert response.status_code == 200, url
        assert "回答正确" not in response.get_data(as_text=True)


# Practice


def test_practice_grades_a_right_answer_and_explains_it(client, app, ctx):
    factories.make_bank(singles=2, multiples=0, judges=0)
    screen = practice_screen(client, app)
    response = answer(client, screen, screen.right[0])
    assert response.status_code == 302
    assert re.search(rf"/learn/{FIRE}/practice\?answered=\d+$",
                     response.headers["Location"].replace("%E6%B6%88%E9%98%B2%E5%AE%89%E5%85%A8",
                                                          FIRE))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    version = db.session.get(Question, screen.question_id).current_version
    assert "✓ 回答正确" in page
    assert version.explanation in page and version.source in page
    assert ">下一题</a>" in page
    (row,) = db.session.scalars(db.select(PracticeAnswer)).all()
    assert (row.question_id, row.chosen, row.is_correct) == (screen.question_id, ["B"], True)


def test_practice_shows_the_right_answer_after_a_wrong_one(client, app, ctx):
    factories.make_bank(singles=1, multiples=0, judges=0)
    screen = practice_screen(client, app)
    response = answer(client, screen, screen.wrong[0])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "✗ 回答错误" in page
    right_letter = "ABCD"[int(screen.right[0])]
    assert f"正确答案：<strong>{right_letter}</strong>" in page
    assert "mark-wrong\">您的选择" in page


def test_multiple_choice_practice_is_all_or_nothing(client, app, ctx):
    factories.make_question(QuestionType.MULTIPLE, answer=["A", "C"])
    screen = practice_screen(client, app)
    answer(client, screen, screen.right[:1])  # one of the two right options: not enough
    again = practice_screen(client, app)
    answer(client, again, again.right)
    verdicts = db.session.scalars(db.select(PracticeAnswer.is_correct)
                                  .order_by(PracticeAnswer.id)).all()
    assert verdicts == [False, True]


def test_practice_works_as_plain_forms_without_javascript(client, app, ctx):
    factories.make_bank(singles=3, multiples=0, judges=0)
    page = client.get(f"/learn/{FIRE}/practice").get_data(as_text=True)
    form = re.search(r'<form class="practice-form" method="post" action="([^"]+)"', page)
    assert form and form.group(1).endswith("/practice")
    assert page.count('type="radio" name="choice"') == 4
    assert '<button class="button button-primary button-block" type="submit">提交答案</button>' \
        in page
    seen = set()
    for _ in range(3):  # answer, read the feedback, follow 下一题: three different questions
        screen = practice_screen(client, app)
        seen.add(screen.question_id)
        feedback = client.get(answer(client, screen, screen.right[0]).headers["Location"])
        next_link = re.search(r'<a class="button button-primary" href="([^"]+)" data-next>',
                              feedback.get_data(as_text=True))
        assert next_link
    assert len(seen) == 3


def test_options_are_shuffled_for_practice(client, app, ctx):
    factories.make_question()
    orders = set()
    for _ in range(12):
        page = client.get(f"/learn/{FIRE}/practice").get_data(as_text=True)
        orders.add(tuple(re.findall(r'<span class="option-text">([^<]+)</span>', page)))
    assert len(orders) > 1


def test_practice_draws_new_questions_first_then_wrong_ones(app, ctx):
    questions = factories.make_bank(singles=3, multiples=0, judges=0)
    learner = Learner(device_key="phone-1")
    old = utcnow() - timedelta(hours=1)
    for question, is_correct in zip(questions[:2], (True, False), strict=True):
        db.session.add(PracticeAnswer(
            device_key="phone-1", question_id=question.id, version_id=question.current_version_id,
            option_order=["A", "B", "C", "D"], chosen=["A"], is_correct=is_correct,
            answered_at=old))
    db.session.commit()
    rng = random.Random(1)
    assert pick_practice_question(learner, FIRE, rng).id == questions[2].id
    db.session.add(PracticeAnswer(
        device_key="phone-1", question_id=questions[2].id,
        version_id=questions[2].current_version_id, option_order=["A", "B", "C", "D"],
        chosen=["B"], is_correct=True))
    db.session.commit()
    assert pick_practice_question(learner, FIRE, rng).id == questions[1].id


# Refused answers


def test_missing_answer_is_refused_and_the_same_question_comes_back(client, app, ctx):
    factories.make_bank(singles=3, multiples=0, judges=0)
    screen = practice_screen(client, app)
    response = answer(client, screen, [])
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请先选择答案再提交" in page
    assert SHOWN_PATTERN.search(page).group(1) == screen.shown
    assert db.session.scalar(db.select(db.func.count(PracticeAnswer.id))) == 0


def test_a_forged_shown_question_is_refused(client, app, ctx):
    factories.make_bank(singles=2, multiples=0, judges=0)
    screen = practice_screen(client, app)
    payload, signature = screen.shown.rsplit(".", 1)
    forged = {"q": screen.question_id, "v": 1, "o": ["B", "A", "C", "D"], "d": "x"}
    for shown in (f"{payload}.{signature[:-2]}xx", "", "abc",
                  _forged_token(app, forged, secret="guessed")):
        response = client.post(f"/learn/{FIRE}/practice",
                               data={"csrf_token": screen.csrf, "shown": shown, "choice": "0"})
        assert response.status_code == 400, shown
        assert "页面信息无效或已过期" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(PracticeAnswer.id))) == 0


def _forged_token(app, data: dict, secret: str) -> str:
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(secret, salt="learn.shown-question").dumps(data)


def test_an_answer_from_another_phone_is_refused(client, app, ctx):
    factories.make_bank(singles=2, multiples=0, judges=0)
    screen = practice_screen(client, app)
    other = app.test_client()
    csrf = csrf_token(other, f"/learn/{FIRE}/practice")
    response = other.post(f"/learn/{FIRE}/practice",
                          data={"csrf_token": csrf, "shown": screen.shown, "choice": screen.right})
    assert response.status_code == 400


def test_an_out_of_range_option_is_refused(client, app, ctx):
    factories.make_bank(singles=2, multiples=0, judges=0)
    screen = practice_screen(client, app)
    assert answer(client, screen, "7").status_code == 400
    assert db.session.scalar(db.select(db.func.count(PracticeAnswer.id))) == 0


def test_a_question_of_another_topic_is_refused(client, app, ctx):
    factories.make_bank(singles=2, multiples=0, judges=0)
    factories.make_question(category="燃气安全")
    screen = practice_screen(client, app, "燃气安全")
    response = answer(client, screen, screen.right)  # posted to the 消防安全 practice
    assert response.status_code == 400
    assert "不属于当前专题" in response.get_data(as_text=True)


@pytest.mark.parametrize("change", ["edited", "disabled"])
def test_a_stale_question_is_refused(client, app, ctx, change):
    factories.make_bank(singles=2, multiples=0, judges=0)
    screen = practice_screen(client, app)
    question = db.session.get(Question, screen.question_id)
    if change == "edited":
        new_version(question, "改过的题干（　）")
    else:
        question.is_enabled = False
        db.session.commit()
    response = answer(client, screen, screen.right)
    assert response.status_code == 409
    assert "刚刚被更新或停用" in response.get_data(as_text=True)


def test_an_answer_without_csrf_is_refused(client, app, ctx):
    factories.make_bank(singles=2, multiples=0, judges=0)
    screen = practice_screen(client, app)
    response = client.post(f"/learn/{FIRE}/practice",
                           data={"shown": screen.shown, "choice": screen.right})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)


# The 错题本


def test_a_wrong_answer_enters_the_book_and_a_right_one_takes_it_out(client, app, ctx):
    factories.make_bank(singles=3, multiples=0, judges=0)
    wrong_id = answer_wrong(client, app)
    assert book_ids(client, app) == {wrong_id}
    assert '<span class="mistake-count">1</span>' in client.get("/learn/").get_data(as_text=True)

    (screen,) = read_screens(app, client.get("/learn/mistakes").get_data(as_text=True))
    response = answer(client, screen, screen.right, "/learn/mistakes")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "✓ 回答正确" in page and "已移出错题本" in page
    assert book_ids(client, app) == set()
    assert "错题本是空的" in client.get("/learn/mistakes").get_data(as_text=True)


def test_a_wrong_retry_keeps_the_question_in_the_book(client, app, ctx):
    factories.make_bank(singles=2, multiples=0, judges=0)
    wrong_id = answer_wrong(client, app)
    (screen,) = read_screens(app, client.get("/learn/mistakes").get_data(as_text=True))
    page = client.get(answer(client, screen, screen.wrong, "/learn/mistakes")
                      .headers["Location"]).get_data(as_text=True)
    assert "✗ 回答错误" in page and "仍留在错题本中" in page
    assert book_ids(client, app) == {wrong_id}


def test_a_retry_without_an_answer_says_so(client, app, ctx):
    factories.make_bank(singles=2, multiples=0, judges=0)
    answer_wrong(client, app)
    (screen,) = read_screens(app, client.get("/learn/mistakes").get_data(as_text=True))
    response = answer(client, screen, [], "/learn/mistakes")
    assert response.status_code == 400
    assert "请先选择答案再提交" in response.get_data(as_text=True)


def test_a_submitted_papers_wrong_answers_enter_the_book(client, app, demo):
    paper_ids = submit_paper(client, app, register(client).headers["Location"], right=False)
    assert book_ids(client, app) == set(paper_ids)


def test_a_submitted_papers_right_answers_do_not(client, app, demo):
    submit_paper(client, app, register(client).headers["Location"], right=True)
    assert book_ids(client, app) == set()


def test_an_open_papers_questions_never_show_in_the_book(client, app, demo):
    attempt_url = register(client).headers["Location"]
    token = re.search(r"/a/([\w-]+)", attempt_url).group(1)
    with app.app_context():
        attempt = db.session.scalar(db.select(Attempt).filter_by(token=token))
        for item in attempt.questions:  # answers saved, wrong, but the paper is not handed in
            item.chosen = [key for key in item.option_order if key not in item.version.answer][:1]
        db.session.commit()
        stems = [item.version.stem for item in attempt.questions]
    page = client.get("/learn/mistakes").get_data(as_text=True)
    assert "错题本是空的" in page
    assert not any(stem in page for stem in stems)


def test_a_right_quiz_answer_after_a_wrong_practice_one_clears_it(client, app, demo):
    register(client)
    with app.app_context():
        attempt = db.session.scalar(db.select(Attempt))
        question = attempt.questions[0].version.question
        question_id, attempt_token = question.id, attempt.token
        # Practised wrong earlier, on another phone, under the same registered person.
        db.session.add(PracticeAnswer(
            participant_id=attempt.participant_id, device_key="another-phone",
            question_id=question.id, version_id=question.current_version_id,
            option_order=["A", "B", "C", "D"], chosen=["A"], is_correct=False,
            answered_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    assert question_id in book_ids(client, app)
    submit_paper(client, app, f"/a/{attempt_token}", right=True)
    assert question_id not in book_ids(client, app)


def test_another_phone_never_sees_the_book(client, app, demo):
    answer_wrong(client, app)
    submit_paper(client, app, register(client).headers["Location"], right=False)
    answer_id = db_scalar(app, db.select(PracticeAnswer.id))
    stranger = app.test_client()
    assert book_ids(stranger, app) == set()
    page = stranger.get(f"/learn/mistakes?answered={answer_id}").get_data(as_text=True)
    assert "回答错误" not in page and "错题本是空的" in page
    feedback = stranger.get(f"/learn/{FIRE}/practice?answered={answer_id}").get_data(as_text=True)
    assert "回答错误" not in feedback and "提交答案" in feedback


def db_scalar(app, statement):
    with app.app_context():
        return db.session.scalar(statement)


def test_mistakes_made_before_registering_stay_after_registering(client, app, demo):
    before = answer_wrong(client, app)
    register(client)
    assert before in book_ids(client, app)
    after = answer_wrong(client, app)
    participant_id = db_scalar(app, db.select(Participant.id))
    assert db_scalar(app, db.select(PracticeAnswer.participant_id)
                     .filter_by(question_id=after)) == participant_id
    assert book_ids(client, app) == {before, after}


def test_the_next_person_on_the_phone_does_not_see_the_first_ones_book(client, app, demo):
    register(client, name="甲")
    mine = answer_wrong(client, app)
    client.post("/forget", data={"csrf_token": csrf_token(client, "/join/S01C01")})
    assert mine not in book_ids(client, app)
    register(client, name="乙")
    assert mine not in book_ids(client, app)


# Practice stays apart from the quiz


def test_practice_never_touches_scores_leaderboards_or_times_drawn(client, app, demo):
    register(client)  # a participant, so practice answers carry one
    drawn_before = dict(db_rows(app, db.select(Question.id, Question.times_drawn)))
    standings_before = db_rows(app, db.select(ParticipantStanding.id))
    for _ in range(4):
        screen = practice_screen(client, app)
        answer(client, screen, screen.right)
    assert db_scalar(app, db.select(db.func.count(PracticeAnswer.id))) == 4
    assert dict(db_rows(app, db.select(Question.id, Question.times_drawn))) == drawn_before
    assert db_rows(app, db.select(ParticipantStanding.id)) == standings_before == []
    assert db_rows(app, db.select(UnitTally.id)) == []
    assert db_rows(app, db.select(DailyTally.id)) == []
    assert db_scalar(app, db.select(db.func.count(Attempt.id))) == 1  # only the quiz's own


def db_rows(app, statement):
    with app.app_context():
        return [tuple(row) for row in db.session.execute(statement)]


def test_practice_answers_are_limited_per_phone_not_per_address(limited_app, ctx):
    factories.make_bank(singles=2, multiples=0, judges=0)
    first, second = limited_app.test_client(), limited_app.test_client()  # one NAT address
    screen = practice_screen(first, limited_app)
    statuses = [answer(first, screen, screen.right).status_code for _ in range(61)]
    assert statuses[:60] == [302] * 60 and statuses[60] == 429
    assert "操作太频繁了" in answer(first, screen, screen.right).get_data(as_text=True)
    other = practice_screen(second, limited_app)
    assert answer(second, other, other.right).status_code == 302


def test_learning_is_linked_from_the_quiz_pages(client, app, demo):
    assert 'href="/learn/"' in client.get("/join/S01C01").get_data(as_text=True)
    token = re.search(r"/a/([\w-]+)", register(client).headers["Location"]).group(1)
    submit_paper(client, app, f"/a/{token}", right=False)
    result = client.get(f"/a/{token}/result").get_data(as_text=True)
    assert 'href="/learn/mistakes"' in result
