"""All models, importable from quiz.models."""
from quiz.models import learn, report  # noqa: F401  (their tables join the metadata)
from quiz.models.bank import Question, QuestionType, QuestionVersion
from quiz.models.org import UNIT_KIND_LABELS, Organiser, OrganiserRole, Unit, UnitKind
from quiz.models.promo import CampaignTheme, LinkPurpose, LinkScan, Slogan, SloganStatus, SloganVote
from quiz.models.play import (
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Campaign,
    DailyTally,
    Participant,
    ParticipantStanding,
    ScoringMode,
    UnitTally,
)

__all__ = [
    "Attempt",
    "AttemptQuestion",
    "AttemptStatus",
    "Campaign",
    "CampaignTheme",
    "DailyTally",
    "LinkPurpose",
    "LinkScan",
    "Organiser",
    "OrganiserRole",
    "Participant",
    "ParticipantStanding",
    "Question",
    "QuestionType",
    "QuestionVersion",
    "ScoringMode",
    "Slogan",
    "SloganStatus",
    "SloganVote",
    "UNIT_KIND_LABELS",
    "Unit",
    "UnitKind",
    "UnitTally",
]
