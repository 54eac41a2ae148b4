"""The organisers' console."""
from quiz.console.views import bp

__all__ = ["bp"]
