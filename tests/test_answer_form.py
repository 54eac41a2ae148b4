"""The answer form: which answers a paper's page may send, and what they mean."""
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict

from quiz.models import QuestionType
from quiz.play.forms import answer_form_for, chosen_keys

# A paper of three questions as the submission sees it: a single choice with four options, a
# multiple choice with five and a true/false question with two, each shown in its own order.
PAPER = SimpleNamespace(questions=[
    SimpleNamespace(position=1, option_order=["C", "A", "D", "B"],
                    content=SimpleNamespace(qtype=QuestionType.SINGLE)),
    SimpleNamespace(position=2, option_order=["E", "B", "A", "D", "C"],
                    content=SimpleNamespace(qtype=QuestionType.MULTIPLE)),
    SimpleNamespace(position=3, option_order=["B", "A"],
                    content=SimpleNamespace(qtype=QuestionType.JUDGE)),
])


def form_of(pairs):
    return answer_form_for(PAPER, formdata=MultiDict(pairs))


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context(method="POST"):
        yield


def test_displayed_positions_become_option_keys():
    form = form_of([("q1", "0"), ("q2", "4"), ("q2", "1"), ("q3", "1")])
    assert form.validate(), form.errors
    assert chosen_keys(form, PAPER) == {1: ["C"], 2: ["B", "C"], 3: ["A"]}


def test_questions_left_blank_have_no_answer():
    form = form_of([("q1", ""), ("q2", "  "), ("q2", "2")])
    assert form.validate(), form.errors
    assert chosen_keys(form, PAPER) == {1: [], 2: ["A"], 3: []}


def test_a_single_choice_sent_twice_counts_its_first_value_as_a_browser_sends_it():
    form = form_of([("q1", "3"), ("q1", "0")])
    assert form.validate(), form.errors
    assert chosen_keys(form, PAPER)[1] == ["B"]


def test_the_same_option_twice_counts_once():
    form = form_of([("q2", "1"), ("q2", "1")])
    assert form.validate(), form.errors
    assert chosen_keys(form, PAPER)[2] == ["B"]


@pytest.mark.parametrize("pairs", [
    [("q1", "4")],  # a fifth option on a question of four
    [("q3", "2")],
    [("q2", "0"), ("q2", "5")],  # one good value does not carry a bad one
    [("q1", "-1")],
    [("q1", "01")],
    [("q1", "１")],  # a full-width digit
    [("q1", "A")],  # an option key instead of a displayed position
    [("q1", "0 ")],
    [("q2", "<script>alert(1)</script>")],
])
def test_options_the_question_does_not_have_are_refused(pairs):
    form = form_of(pairs)
    assert not form.validate()
    position = pairs[0][0][1:]
    assert form.errors == {"answers": [f"第 {position} 题的选项不存在"]}


def test_fields_of_questions_not_on_the_paper_are_ignored():
    form = form_of([("q4", "0"), ("q0", "9"), ("score", "100"), ("q1_answer", "A")])
    assert form.validate(), form.errors
    assert chosen_keys(form, PAPER) == {1: [], 2: [], 3: []}


def test_no_form_data_means_no_answers():
    form = answer_form_for(PAPER, formdata=None)
    assert chosen_keys(form, PAPER) == {1: [], 2: [], 3: []}
