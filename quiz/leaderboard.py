"""Leaderboard figures and ranks, read from the running totals (never from attempts)."""
from dataclasses import dataclass

from quiz.extensions import db
from quiz.models import Campaign, ParticipantStanding, ScoringMode, Unit, UnitKind, UnitTally


@dataclass
class UnitRow:
    unit: Unit
    participants: int = 0
    attempts: int = 0
    best_score_sum: int = 0
    passed_participants: int = 0
    full_mark_participants: int = 0
    points_total: int = 0
    rank: int = 0

    @property
    def average_best(self) -> float:
        return self.best_score_sum / self.participants if self.participants else 0.0

    @property
    def participation_rate(self) -> float:
        """Participants over headcount, as a fraction; 0 when the headcount is unknown."""
        return self.participants / self.unit.headcount if self.unit.headcount else 0.0

    @property
    def pass_rate(self) -> float:
        return self.passed_participants / self.participants if self.participants else 0.0

    @property
    def full_mark_rate(self) -> float:
        return self.full_mark_participants / self.participants if self.participants else 0.0


def sort_key(campaign: Campaign):
    """How units are ranked: points in contest mode, the average best score otherwise."""
    if campaign.scoring_mode is ScoringMode.ACCUMULATE:
        return lambda row: (-row.points_total, -row.participation_rate, row.unit.code)
    return lambda row: (-round(row.average_best, 6), -row.participation_rate, row.unit.code)


def unit_rows(campaign: Campaign, kind: UnitKind | None = None) -> list[UnitRow]:
    """Every active unit (of one kind, if given) with its totals, ranked."""
    units_query = db.select(Unit).where(Unit.is_active)
    if kind is not None:
        units_query = units_query.where(Unit.kind == kind)
    units = db.session.scalars(units_query).all()
    tallies = {t.unit_id: t for t in db.session.scalars(
        db.select(UnitTally).where(UnitTally.campaign_id == campaign.id))}
    rows = []
    for unit in units:
        tally = tallies.get(unit.id)
        row = UnitRow(unit=unit)
        if tally is not None:
            row.participants, row.attempts = tally.participants, tally.attempts
            row.best_score_sum, row.points_total = tally.best_score_sum, tally.points_total
            row.passed_participants = tally.passed_participants
            row.full_mark_participants = tally.full_mark_participants
        rows.append(row)
    rows.sort(key=sort_key(campaign))
    assign_ranks(rows, campaign)
    return rows


def assign_ranks(rows: list[UnitRow], campaign: Campaign) -> None:
    """Competition ranking (1, 2, 2, 4): equal figures share a rank."""
    key = sort_key(campaign)
    previous = None
    for index, row in enumerate(rows, start=1):
        current = key(row)[:2]
        row.rank = rows[index - 2].rank if previous == current else index
        previous = current


def unit_rank(campaign: Campaign, unit: Unit) -> tuple[int, int]:
    """The unit's rank among active units of its kind, and how many there are."""
    rows = unit_rows(campaign, unit.kind)
    for row in rows:
        if row.unit.id == unit.id:
            return row.rank, len(rows)
    return 0, len(rows)


def rank_in_unit(campaign: Campaign, standing: ParticipantStanding) -> tuple[int, int]:
    """A person's rank among the unit's participants, and how many took part.

    Best-score campaigns rank by best score, then shorter time, then who got there
    first; contest campaigns rank by accumulated points.
    """
    same_unit = (ParticipantStanding.campaign_id == campaign.id,
                 ParticipantStanding.unit_id == standing.unit_id,
                 ParticipantStanding.attempts_count > 0)
    S = ParticipantStanding
    if campaign.scoring_mode is ScoringMode.ACCUMULATE:
        ahead = S.points_total > standing.points_total
    else:
        ahead = db.or_(
            S.best_score > standing.best_score,
            db.and_(S.best_score == standing.best_score,
                    S.best_duration_ms < standing.best_duration_ms),
            db.and_(S.best_score == standing.best_score,
                    S.best_duration_ms == standing.best_duration_ms,
                    S.best_at < standing.best_at))
    better = db.session.scalar(db.select(db.func.count(S.id)).where(*same_unit, ahead))
    total = db.session.scalar(db.select(db.func.count(S.id)).where(*same_unit))
    return better + 1, total
