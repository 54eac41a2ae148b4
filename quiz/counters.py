"""Counters kept with one atomic upsert, so concurrent requests never lose an increment."""
from sqlalchemy.dialects import postgresql, sqlite

from quiz.extensions import db


def insert_with_on_conflict(table):
    """An INSERT that can say ON CONFLICT: both engines we run on (SQLite ≥ 3.24, PostgreSQL) do."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def add_to_counter(model, keys: dict, deltas: dict[str, int]) -> None:
    """Add deltas to the row identified by keys, creating it if it does not exist yet.

    One INSERT … ON CONFLICT DO UPDATE: the first request of a day or a unit creates the
    row, every later one adds to it, and two first requests at once cannot collide. The
    keys must be the columns of one of the table's unique constraints. The caller commits.
    """
    table = model.__table__
    statement = insert_with_on_conflict(table).values({**keys, **deltas})
    db.session.execute(statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + statement.excluded[name] for name in deltas}))
