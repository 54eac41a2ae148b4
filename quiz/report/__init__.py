"""Hazard reports (查找身边隐患)."""
from quiz.report.views import bp

__all__ = ["bp"]
