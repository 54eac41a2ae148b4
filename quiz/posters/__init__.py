"""Posters and QR codes for every unit, and scan statistics."""
from quiz.posters.views import bp

__all__ = ["bp"]
