"""A paper as the resident's busiest requests read it: plain rows, not ORM objects.

The paper page, its saves and the submission carry the consultation day. Reading a paper
with one prepared statement costs a fraction of loading the ORM's object graph, and the
question wording comes from memory (quiz.question_content). ``Paper`` has the attribute names
of ``Attempt`` that grading and the time rules use, so those work on either.

The statement (quiz.prepared) runs with SQLAlchemy's conversions of the values but not its
session: the paper page cost 1.24 ms of CPU in process with the session's read and 1.0 ms with
this one (bench/results-load.md). The page reads on a pooled DBAPI connection of its own, in
autocommit on PostgreSQL; on SQLite a save and the submission read on the session's
connection, which their writes then use.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from quiz.extensions import db
from quiz.models import Attempt, AttemptQuestion, AttemptStatus, Campaign, Participant
from quiz.prepared import Prepared, kept_cursor
from quiz.question_content import QuestionContent, question_contents

_attempts, _items = Attempt.__table__, AttemptQuestion.__table__
_participants, _campaigns = Participant.__table__, Campaign.__table__

# Built once: a statement built per request costs more than running it. One statement finds
# the paper, checks its owner and brings its campaign's rules and its questions, a row each.
_PAPER = Prepared(
    db.select(_attempts.c.id, _attempts.c.token, _attempts.c.campaign_id,
              _attempts.c.participant_id, _attempts.c.unit_id, _attempts.c.status,
              _attempts.c.started_at, _attempts.c.deadline_at, _attempts.c.max_score,
              _campaigns.c.title, _campaigns.c.pass_mark, _campaigns.c.partial_credit,
              _items.c.id, _items.c.position, _items.c.points, _items.c.option_order,
              _items.c.chosen, _items.c.question_version_id)
    .join(_participants, _participants.c.id == _attempts.c.participant_id)
    .join(_campaigns, _campaigns.c.id == _attempts.c.campaign_id)
    .join(_items, _items.c.attempt_id == _attempts.c.id)
    .where(_attempts.c.token == bindparam("token"), _participants.c.token == bindparam("person"))
    .order_by(_items.c.position))
# Only while the paper is open: a save that arrives just after the submission changes nothing.
_SAVE = _items.update().where(
    _items.c.id == bindparam("item_id"),
    db.exists().where(_attempts.c.id == _items.c.attempt_id,
                      _attempts.c.status == AttemptStatus.IN_PROGRESS),
).values(chosen=bindparam("new_chosen"))


@dataclass(frozen=True)
class CampaignRules:
    """What a paper's page and grading need of its campaign."""

    title: str
    pass_mark: int
    partial_credit: bool


@dataclass
class PaperItem:
    id: int
    position: int
    points: int
    option_order: list[str]
    chosen: list[str] | None
    question_version_id: int
    content: QuestionContent


@dataclass
class Paper:
    id: int
    token: str
    campaign_id: int
    participant_id: int
    unit_id: int
    status: AttemptStatus
    started_at: datetime
    deadline_at: datetime
    max_score: int
    campaign: CampaignRules
    questions: list[PaperItem]

    @property
    def is_submitted(self) -> bool:
        return self.status is AttemptStatus.SUBMITTED


def _paper_rows(values: dict[str, str]) -> list[tuple] | None:
    """The paper's rows read on a pooled connection of their own; None if that failed."""
    engine = db.engine
    # A single shared connection would be the session's own: returning it rolls it back.
    if isinstance(engine.pool, (SingletonThreadPool, StaticPool)):
        return None
    dialect = engine.dialect
    compiled = _PAPER.compiled_for(dialect)
    # psycopg begins a transaction before a SELECT, and the pool's return rolls it back: two
    # round trips more than the read. sqlite3 begins one only before a write.
    read_in_autocommit = dialect.name != "sqlite"
    try:
        connection = engine.raw_connection()
    except dialect.loaded_dbapi.Error:
        return None
    try:
        if read_in_autocommit:
            dialect.set_isolation_level(connection.dbapi_connection, "AUTOCOMMIT")
        cursor = kept_cursor(connection)
        cursor.execute(compiled.sql, compiled.parameters(values))
        rows = cursor.fetchall()
        if read_in_autocommit:
            dialect.reset_isolation_level(connection.dbapi_connection)
    except dialect.loaded_dbapi.Error:
        # A dropped connection (a restarted server): discard it and let the session's read
        # meet the error, which SQLAlchemy turns into its own and answers by renewing the pool.
        connection.invalidate()
        return None
    finally:
        connection.close()
    return [compiled.convert(row) for row in rows]


def paper_of(token: str, person_token: str, for_writing: bool = False) -> Paper | None:
    """The paper behind a link, if it belongs to the person with this token.

    ``for_writing``: the caller goes on to write (a save, the submission). On SQLite the paper
    is then read on the session's connection, in the transaction the writes will use, instead
    of on a second pooled connection. On PostgreSQL it is read in autocommit all the same: the
    submission writes in one statement outside the session's transaction
    (quiz.attempts.record_result), and a read in the session's would add a BEGIN.
    """
    values = {"token": token, "person": person_token}
    in_session = for_writing and db.engine.dialect.name == "sqlite"
    rows = (_PAPER.execute(db.session.connection(), values).rows if in_session
            else _paper_rows(values))
    if rows is None:
        rows = db.session.execute(_PAPER.statement, values).all()
    if not rows:  # no such paper, or another person's (every paper has questions)
        return None
    contents = question_contents([row[-1] for row in rows])
    items = [PaperItem(*row[12:], content=contents[row[-1]]) for row in rows]
    first = rows[0]
    return Paper(*first[:9], campaign=CampaignRules(*first[9:12]), questions=items)


def save_answers(paper: Paper, answers: dict[int, list[str]]) -> None:
    """Store answers (option keys by position) on an open paper; the caller commits."""
    changed = [{"item_id": item.id, "new_chosen": sorted(answers[item.position])}
               for item in paper.questions if item.position in answers]
    if changed:
        db.session.execute(_SAVE, changed)
