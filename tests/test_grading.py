"""Grading rules: all or nothing, unless a campaign allows partial credit."""
import pytest

from quiz.grading import award_points, is_passing
from quiz.models import QuestionType

S, M, J = QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.JUDGE


@pytest.mark.parametrize(("qtype", "answer", "chosen", "partial", "expected"), [
    (S, ["B"], ["B"], False, 5),
    (S, ["B"], ["A"], False, 0),
    (S, ["B"], None, False, 0),
    (S, ["B"], [], False, 0),
    (S, ["B"], ["A", "B"], False, 0),  # a forged second choice never earns points
    (J, ["F"], ["F"], False, 5),
    (J, ["F"], ["T"], False, 0),
    (M, ["A", "C"], ["A", "C"], False, 5),
    (M, ["A", "C"], ["C", "A"], False, 5),
    (M, ["A", "C"], ["A"], False, 0),  # incomplete: nothing without partial credit
    (M, ["A", "C"], ["A", "B", "C"], False, 0),
    (M, ["A", "C"], ["A"], True, 2),  # incomplete, nothing wrong: half, rounded down
    (M, ["A", "C"], ["A", "B"], True, 0),  # a wrong tick loses everything
    (M, ["A", "C"], [], True, 0),
    (M, ["A", "C"], ["A", "C"], True, 5),
    (S, ["B"], ["A"], True, 0),  # partial credit only concerns multiple choice
])
def test_award_points(qtype, answer, chosen, partial, expected):
    assert award_points(qtype, answer, chosen, 5, partial) == expected


@pytest.mark.parametrize(("score", "mark", "passed"), [(60, 60, True), (59, 60, False), (100, 60, True)])
def test_pass_mark_is_inclusive(score, mark, passed):
    assert is_passing(score, mark) is passed
