"""Public leaderboards."""
from quiz.board.views import bp

__all__ = ["bp"]
