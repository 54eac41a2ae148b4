"""The organisers' console.

One blueprint, defined in views.py; the other modules add their pages to it.
"""
from quiz.console import campaigns, organisers, units  # noqa: F401  (they register routes)
from quiz.console.views import bp

__all__ = ["bp"]
