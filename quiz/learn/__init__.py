"""在线学习: browse the bank by topic, practise with instant feedback, and the 错题本."""
from quiz.learn.views import bp

__all__ = ["bp"]
