"""Grading rules, as plain functions: the server alone decides what is right."""
from quiz.models import QuestionType


def award_points(qtype: QuestionType, answer: list[str], chosen: list[str] | None,
                 points: int, partial_credit: bool = False) -> int:
    """Return the points one answer earns.

    Single choice and true/false: all or nothing. Multiple choice: all or nothing,
    unless the campaign allows partial credit, in which case a correct but incomplete
    choice (no wrong option ticked) earns half the points, rounded down.
    """
    picked = set(chosen or ())
    right = set(answer)
    if picked == right:
        return points
    if (partial_credit and qtype is QuestionType.MULTIPLE and picked
            and picked < right):
        return points // 2
    return 0


def is_passing(score: int, pass_mark: int) -> bool:
    """A paper passes when its score reaches the campaign's pass mark."""
    return score >= pass_mark
