"""Template helpers that write HTML themselves: what they put in a page must stay escaped."""
import re
from types import SimpleNamespace

from markupsafe import escape

from quiz.extensions import db
from quiz.models import QuestionType
from quiz.question_content import QuestionContent, question_contents
from quiz.templating import option_labels
from tests.factories import make_question

HOSTILE = '<img src=x onerror=alert(1)> & "引号"'


def content(qtype: QuestionType, texts: dict[str, str]) -> QuestionContent:
    return QuestionContent(1, qtype, "题干", texts, ("A",),
                           {key: escape(text) for key, text in texts.items()})


def labels(qtype, texts, order, chosen, position=3):
    item = SimpleNamespace(content=content(qtype, texts), position=position,
                           option_order=order, chosen=chosen)
    html = str(option_labels(item))
    return html, re.findall(
        r'<label class="option"><input type="(\w+)" name="(q\d+)" value="(\d+)"( checked)?>'
        r'<span class="option-letter">(.)</span><span class="option-text">(.*?)</span></label>',
        html)


def test_options_come_in_the_papers_order_with_positions_letters_and_saved_choices():
    texts = {"A": "甲", "B": "乙", "C": "丙", "D": "丁"}
    _html, found = labels(QuestionType.SINGLE, texts, ["C", "A", "D", "B"], ["A"])
    assert found == [("radio", "q3", "0", "", "A", "丙"),
                     ("radio", "q3", "1", " checked", "B", "甲"),
                     ("radio", "q3", "2", "", "C", "丁"),
                     ("radio", "q3", "3", "", "D", "乙")]


def test_several_choices_are_checkboxes_and_true_false_shows_marks():
    texts = {"A": "甲", "B": "乙", "C": "丙"}
    _html, found = labels(QuestionType.MULTIPLE, texts, ["B", "A", "C"], ["A", "C"], position=1)
    assert [(kind, checked) for kind, _name, _value, checked, _letter, _text in found] == [
        ("checkbox", ""), ("checkbox", " checked"), ("checkbox", " checked")]
    _html, found = labels(QuestionType.JUDGE, {"T": "正确", "F": "错误"}, ["T", "F"], None)
    assert [(letter, text) for *_rest, letter, text in found] == [("✓", "正确"), ("✗", "错误")]


def test_an_option_text_with_markup_is_shown_as_text():
    html, found = labels(QuestionType.SINGLE, {"A": HOSTILE, "B": "乙"}, ["A", "B"], ["B"])
    assert "<img" not in html and 'onerror=alert(1)> & "' not in html
    assert found[0][-1] == "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;引号&#34;"
    assert len(found) == 2


def test_the_contents_in_memory_carry_the_option_texts_escaped(ctx):
    question = make_question()
    version = question.current_version
    version.options = [{"key": "A", "text": HOSTILE}, *version.options[1:]]
    db.session.commit()
    found = question_contents([version.id])[version.id]
    assert found.option_texts["A"] == HOSTILE
    assert str(found.option_html["A"]) == "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;引号&#34;"
    assert found.option_html["B"] == found.option_texts["B"]
