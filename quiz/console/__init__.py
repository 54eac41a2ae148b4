"""The organisers' console.

One blueprint, defined in views.py; the other modules add their pages to it.
"""
from quiz.console import bank, campaigns, organisers, reports, units  # noqa: F401  (they register routes)
from quiz.console.views import bp

__all__ = ["bp"]
