"""Hazard reports (查找身边隐患): the public pages and the Open311 interface."""
from quiz.report import open311
from quiz.report.views import bp

__all__ = ["bp", "open311"]
