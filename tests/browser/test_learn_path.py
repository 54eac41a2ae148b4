"""A resident studies on a phone: a topic, practice, one wrong on purpose, the 错题本."""
import pytest
from playwright.sync_api import expect

from quiz.extensions import db
from quiz.learn.forms import _serializer
from quiz.models import Question

pytestmark = pytest.mark.browser

TOPIC = "消防安全"


def shown_question(app, form):
    """The question a practice form shows, and the displayed positions of its key."""
    token = form.locator("input[name=shown]").get_attribute("value")
    with app.app_context():
        data = _serializer().loads(token)
        version = db.session.get(Question, data["q"]).current_version
        return version.stem, [data["o"].index(key) for key in version.answer]


def choose(form, positions):
    for position in positions:
        form.locator(".option").nth(position).click()


def test_study_practise_and_clear_a_mistake(app, live_server, district, phone):
    page = phone.new_page()
    page.goto(f"{live_server}/join/S01C01")
    page.get_by_role("link", name="在线学习：按专题练习、错题本 →").click()
    expect(page.locator(".mistake-count")).to_have_text("0")

    topic = page.locator(".topic-item", has_text=TOPIC)
    topic.get_by_role("link", name="看题学习").click()
    expect(page.get_by_role("heading", name=TOPIC)).to_be_visible()
    first = page.locator(".study-item").first
    expect(first.locator(".is-key .mark-key")).to_have_text("正确答案")
    expect(first.locator(".explain")).to_contain_text("依据：")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows

    page.get_by_role("link", name="练习这个专题").click()
    form = page.locator(".practice-form")
    wrong_stem, key = shown_question(app, form)
    wrong_choice = next(position for position in range(4) if position not in key)
    choose(form, [wrong_choice])
    form.get_by_role("button", name="提交答案").click()
    expect(page.locator(".feedback-verdict")).to_have_text("✗ 回答错误")
    expect(page.locator(".feedback .explain")).to_contain_text("解析：")
    expect(page.locator(".review-options .is-key")).to_have_count(len(key))

    page.get_by_role("link", name="下一题").click()
    form = page.locator(".practice-form")
    right_stem, key = shown_question(app, form)
    assert right_stem != wrong_stem
    choose(form, key)
    form.get_by_role("button", name="提交答案").click()
    expect(page.locator(".feedback-verdict")).to_have_text("✓ 回答正确")
    expect(page.locator(".practice-status")).to_contain_text("已练 2")

    page.get_by_role("link", name="错题本（本专题 1 道）").click()
    mistakes = page.locator(".practice-form")
    expect(mistakes).to_have_count(1)
    expect(mistakes.locator(".question-stem")).to_have_text(wrong_stem)

    stem, key = shown_question(app, mistakes)
    assert stem == wrong_stem
    choose(mistakes, key)
    mistakes.get_by_role("button", name="提交答案").click()
    expect(page.locator(".feedback-verdict")).to_have_text("✓ 回答正确")
    expect(page.locator(".feedback-note")).to_contain_text("已移出错题本")
    expect(page.locator(".empty-title")).to_have_text("错题本是空的")

    page.goto(f"{live_server}/learn/")
    expect(page.locator(".mistake-count")).to_have_text("0")
