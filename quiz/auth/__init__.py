"""Organiser login and logout."""
from quiz.auth.views import bp

__all__ = ["bp"]
