"""A resident takes the quiz on a phone, from the poster link to the result."""
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from quiz.extensions import db
from quiz.models import Attempt, Campaign, UnitTally

pytestmark = pytest.mark.browser


def key_positions(app, token):
    """For each question, the displayed positions of the right options."""
    with app.app_context():
        attempt = db.session.scalar(db.select(Attempt).filter_by(token=token))
        return [[item.option_order.index(key) for key in item.version.answer]
                for item in attempt.questions]


def current_token(page):
    return re.search(r"/a/([\w-]+)", page.url).group(1)


def register(page, base, unit="S01C01", name="王秀英"):
    page.goto(f"{base}/u/{unit}")
    page.get_by_label("姓名").fill(name)
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url(re.compile(r"/a/[\w-]+$"))


def answer_current(page, positions):
    question = page.locator(".question.is-current")
    for position in positions:
        question.locator(".option").nth(position).click()


def test_quiz_from_poster_link_to_result(app, live_server, district, phone):
    page = phone.new_page()
    board_before = phone.new_page()
    board_before.goto(f"{live_server}/board/?kind=community")
    assert "参与 0 人 · 0 人次" in board_before.locator("#unit-S01C01").inner_text()

    register(page, live_server)
    token = current_token(page)
    keys = key_positions(app, token)
    assert page.locator(".question.is-current").count() == 1
    assert "第 1 / 5 题" in page.locator(".quiz-progress-text").inner_text()
    assert re.match(r"剩余 2:(2|3)\d", page.locator("[data-countdown]").inner_text())

    answer_current(page, keys[0])
    expect(page.locator("[data-save-state]")).to_have_text("答案已保存")
    order_before = page.locator(".question .option-text").all_inner_texts()

    page.reload()  # the phone drops the page mid-quiz
    assert page.locator(".question .option-text").all_inner_texts() == order_before
    assert "已答 1" in page.locator(".quiz-progress-text").inner_text()
    assert "第 2 / 5 题" in page.locator(".quiz-progress-text").inner_text()  # resumes at the first unanswered

    page.get_by_role("button", name="上一题").click()
    assert page.locator(".question.is-current .option input:checked").count() == len(keys[0])
    page.get_by_role("button", name="下一题").click()
    for positions in keys[1:]:
        answer_current(page, positions)
        if page.get_by_role("button", name="下一题").is_visible():
            page.get_by_role("button", name="下一题").click()
    page.get_by_role("button", name="交卷").dblclick()  # an impatient double tap
    page.wait_for_url(re.compile(r"/result$"))

    text = page.locator("main").inner_text()
    assert "100\n / 100 分" in text or "100 / 100 分" in text.replace("\n", " ")
    assert "排第 1 名" in text
    assert text.count("解析：") == 5 and text.count("依据：") == 5
    with app.app_context():
        tally = db.session.scalar(db.select(UnitTally))
        assert (tally.attempts, tally.participants, tally.points_total) == (1, 1, 100)

    page.get_by_role("link", name="单位排行榜").first.click()
    row = page.locator("#unit-S01C01")
    assert "参与 1 人 · 1 人次" in row.inner_text() and "100" in row.inner_text()
    assert page.url.endswith("#unit-S01C01")  # the resident's unit is marked and scrolled to
    assert row.evaluate("row => row.matches(':target')")
    assert row.evaluate("row => getComputedStyle(row).outlineStyle") == "solid"


def test_a_retried_submission_counts_once(app, live_server, district, phone):
    page = phone.new_page()
    register(page, live_server)
    token = current_token(page)
    for positions in key_positions(app, token):
        answer_current(page, positions)
        if page.get_by_role("button", name="下一题").is_visible():
            page.get_by_role("button", name="下一题").click()
    # The network drops the first reply; the phone sends the same paper again.
    statuses = page.evaluate("""async () => {
        const form = document.getElementById('paper');
        const send = () => fetch(form.action, {method: 'POST', body: new FormData(form), redirect: 'manual'});
        const replies = await Promise.all([send(), send()]);
        return replies.map(r => r.type);
    }""")
    assert statuses == ["opaqueredirect", "opaqueredirect"]
    # The page's own script may learn the paper is in and move to the result at the same
    # moment, aborting our navigation; either way the result page must be reached.
    for _ in range(3):
        try:
            page.goto(f"{live_server}/a/{token}/result")
            break
        except PlaywrightError:
            page.wait_for_timeout(300)
    assert "100" in page.locator(".score").inner_text()
    with app.app_context():
        tally = db.session.scalar(db.select(UnitTally))
        assert (tally.attempts, tally.points_total) == (1, 100)


def test_the_paper_works_without_javascript(app, live_server, district, browser):
    from tests.browser.conftest import PHONE

    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    register(page, live_server, name="李大爷")
    token = current_token(page)
    assert page.locator(".question").count() == 5  # the whole paper on one page
    for number, positions in enumerate(key_positions(app, token), start=1):
        for position in positions:
            page.locator(f"#q{number} .option").nth(position).click()
    page.get_by_role("button", name="交卷").click()
    page.wait_for_url(re.compile(r"/result$"))
    assert "100" in page.locator(".score").inner_text()
    context.close()


def test_time_up_submits_what_was_answered(app, live_server, district, phone):
    with app.app_context():
        db.session.scalar(db.select(Campaign).filter_by(is_active=True)).time_limit_seconds = 4
        db.session.commit()
    page = phone.new_page()
    register(page, live_server)
    answer_current(page, key_positions(app, current_token(page))[0])
    page.wait_for_url(re.compile(r"/result$"), timeout=15_000)
    text = page.locator("main").inner_text()
    assert "20" in page.locator(".score").inner_text()
    assert "答题时间已到" in text


def test_unit_picker_search(app, live_server, district, phone):
    page = phone.new_page()
    page.goto(live_server + "/")
    page.get_by_role("searchbox", name="搜索单位").fill("湖滨")
    options = page.locator(".picker-list button")
    assert options.count() == 1
    options.first.click()
    assert page.locator("select[name=unit]").input_value() == "S02C01"
    page.get_by_label("姓名").fill("赵敏")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url(re.compile(r"/a/[\w-]+$"))
    with app.app_context():
        attempt = db.session.scalar(db.select(Attempt))
        assert attempt.unit.code == "S02C01"
