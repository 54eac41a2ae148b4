"""The resident's quiz: landing page, paper, result."""
from quiz.play.views import bp

__all__ = ["bp"]
