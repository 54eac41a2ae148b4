"""Slogans: the official set, public submissions and votes."""
from quiz.slogans.views import bp

__all__ = ["bp"]
