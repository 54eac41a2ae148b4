"""Leaderboard figures and ranks, read from the running totals (never from attempts)."""
from dataclasses import dataclass, field

from quiz.extensions import db
from quiz.models import (
    Campaign,
    Participant,
    ParticipantStanding,
    ScoringMode,
    Unit,
    UnitKind,
    UnitTally,
)
from quiz.shortcache import cached

TALLY_FIELDS = ("participants", "attempts", "best_score_sum", "passed_participants",
                "full_mark_participants", "points_total")

# metric key → (label, how a row is measured)
METRICS = {
    "points": ("累计积分", lambda row: row.points_total),
    "average": ("平均最高分", lambda row: round(row.average_best, 6)),
    "participation": ("参与率", lambda row: round(row.participation_rate, 9)),
    "participants": ("参与人数", lambda row: row.participants),
    "attempts": ("答题人次", lambda row: row.attempts),
    "pass_rate": ("合格率", lambda row: round(row.pass_rate, 9)),
    "full_mark_rate": ("满分率", lambda row: round(row.full_mark_rate, 9)),
}


@dataclass
class UnitRow:
    unit: Unit
    headcount: int = 0
    participants: int = 0
    attempts: int = 0
    best_score_sum: int = 0
    passed_participants: int = 0
    full_mark_participants: int = 0
    points_total: int = 0
    rank: int = 0
    children: list["UnitRow"] = field(default_factory=list)

    @property
    def average_best(self) -> float:
        return self.best_score_sum / self.participants if self.participants else 0.0

    @property
    def participation_rate(self) -> float:
        """Participants over headcount, as a fraction; 0 when the headcount is unknown."""
        return self.participants / self.headcount if self.headcount else 0.0

    @property
    def pass_rate(self) -> float:
        return self.passed_participants / self.participants if self.participants else 0.0

    @property
    def full_mark_rate(self) -> float:
        return self.full_mark_participants / self.participants if self.participants else 0.0

    @property
    def has_started(self) -> bool:
        return self.participants > 0


def default_metric(campaign: Campaign) -> str:
    """Contest campaigns rank units by points, the national way; exams by the average."""
    return "points" if campaign.scoring_mode is ScoringMode.ACCUMULATE else "average"


def rolled_up_rows(campaign: Campaign) -> dict[int, UnitRow]:
    """Every active unit with its own totals plus those of every unit below it.

    A unit's headcount counts only the people attached to it directly; the roll-up adds
    its children's, so a street's participation rate covers its communities.
    """
    units = db.session.scalars(db.select(Unit).where(Unit.is_active)).all()
    rows = {unit.id: UnitRow(unit=unit, headcount=unit.headcount) for unit in units}
    for tally in db.session.scalars(
            db.select(UnitTally).where(UnitTally.campaign_id == campaign.id)):
        row = rows.get(tally.unit_id)
        if row is not None:
            for name in TALLY_FIELDS:
                setattr(row, name, getattr(tally, name))
    for row in rows.values():
        parent = rows.get(row.unit.parent_id)
        if parent is not None:
            parent.children.append(row)
    roots = [row for row in rows.values() if row.unit.parent_id not in rows]

    def add_children(row: UnitRow) -> None:
        for child in row.children:
            add_children(child)
            row.headcount += child.headcount
            for name in TALLY_FIELDS:
                setattr(row, name, getattr(row, name) + getattr(child, name))

    for root in roots:
        add_children(root)
    return rows


def unit_rows(campaign: Campaign, kind: UnitKind | None = None, metric: str | None = None,
              within: set[int] | None = None,
              rolled: dict[int, UnitRow] | None = None) -> list[UnitRow]:
    """Active units (of one kind, inside a set of unit ids) ranked by a metric, rolled up."""
    metric = metric if metric in METRICS else default_metric(campaign)
    rows = [row for row in (rolled or rolled_up_rows(campaign)).values()
            if (kind is None or row.unit.kind is kind)
            and (within is None or row.unit.id in within)]
    rank_rows(rows, metric)
    return rows


def rank_rows(rows: list[UnitRow], metric: str) -> None:
    """Sort by the metric, units that have not started last; equal figures share a rank."""
    measure = METRICS[metric][1]
    rows.sort(key=lambda row: (not row.has_started, -measure(row), row.unit.code))
    previous = None
    for index, row in enumerate(rows, start=1):
        current = (row.has_started, measure(row))
        row.rank = rows[index - 2].rank if previous == current else index
        previous = current


def unit_rank(campaign: Campaign, unit: Unit) -> tuple[int, int]:
    """The unit's rank among active units of its kind, and how many there are.

    The ranks of a kind are the same for every resident's result page, so they are kept for
    a few seconds (quiz/shortcache.py) instead of rolling up every unit for each result.
    """
    ranks = cached(("unit-ranks", campaign.id, unit.kind.value), lambda: {
        row.unit.id: row.rank for row in unit_rows(campaign, unit.kind)})
    return ranks.get(unit.id, 0), len(ranks)


def _ahead_of(campaign: Campaign, standing: ParticipantStanding):
    S = ParticipantStanding
    if campaign.scoring_mode is ScoringMode.ACCUMULATE:
        return S.points_total > standing.points_total
    return db.or_(
        S.best_score > standing.best_score,
        db.and_(S.best_score == standing.best_score,
                S.best_duration_ms < standing.best_duration_ms),
        db.and_(S.best_score == standing.best_score,
                S.best_duration_ms == standing.best_duration_ms,
                S.best_at < standing.best_at))


def rank_in_unit(campaign: Campaign, standing: ParticipantStanding) -> tuple[int, int]:
    """A person's rank among the unit's participants, and how many took part.

    Best-score campaigns rank by best score, then shorter time, then who got there
    first; contest campaigns rank by accumulated points.
    """
    S = ParticipantStanding
    same_unit = (S.campaign_id == campaign.id, S.unit_id == standing.unit_id,
                 S.attempts_count > 0)
    better = db.session.scalar(
        db.select(db.func.count(S.id)).where(*same_unit, _ahead_of(campaign, standing)))
    total = db.session.scalar(db.select(db.func.count(S.id)).where(*same_unit))
    return better + 1, total


def top_people(campaign: Campaign, unit_ids: set[int] | None = None, limit: int = 50):
    """The best individuals: (standing, participant, unit) in ranking order."""
    S = ParticipantStanding
    query = (db.select(S, Participant, Unit)
             .join(Participant, Participant.id == S.participant_id)
             .join(Unit, Unit.id == S.unit_id)
             .where(S.campaign_id == campaign.id, S.attempts_count > 0))
    if unit_ids is not None:
        query = query.where(S.unit_id.in_(unit_ids))
    if campaign.scoring_mode is ScoringMode.ACCUMULATE:
        query = query.order_by(S.points_total.desc())
    else:
        query = query.order_by(S.best_score.desc(), S.best_duration_ms, S.best_at)
    return db.session.execute(query.limit(limit)).all()
