"""Counters kept with one atomic upsert, so concurrent requests never lose an increment.

The statements are SQL text because SQLAlchemy cannot cache the compiled form of its ON
CONFLICT constructs: they were compiled anew on every request. This text is the same on
SQLite (3.24 and later) and PostgreSQL, is built once per table and shape, and its
parameters keep their column types (enums, dates).
"""
from functools import lru_cache

from sqlalchemy import Table, TextClause, bindparam, text

from quiz.extensions import db


def add_to_counter(model, keys: dict, deltas: dict[str, int]) -> None:
    """Add deltas to the row identified by keys, creating it if it does not exist yet.

    The first request of a day or a unit creates the row, every later one adds to it, and
    two first requests at once cannot collide. The keys must be the columns of one of the
    table's unique constraints. The caller commits. (The submission's totals have statements
    of their own: quiz.attempts.)
    """
    values = {**keys, **deltas}
    defaults = _defaults(model, values)
    statement = _upsert(model.__table__, tuple(keys), tuple(deltas), tuple(defaults))
    db.session.execute(statement, {**defaults, **values})


def _defaults(model, given: dict) -> dict:
    """The model's Python-side defaults (``mapped_column(default=…)``) for the columns not given:
    SQL text does not apply them, and the columns are NOT NULL."""
    return {column.name: (column.default.arg if column.default.is_scalar
                          else column.default.arg(None))
            for column in model.__table__.columns
            if column.name not in given and not column.primary_key and column.default is not None}


def _quoted(names) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _insert_sql(table: Table, columns: tuple[str, ...], unique_keys: tuple[str, ...]) -> str:
    placeholders = ", ".join(f":{name}" for name in columns)
    return (f'INSERT INTO "{table.name}" ({_quoted(columns)}) VALUES ({placeholders}) '
            f"ON CONFLICT ({_quoted(unique_keys)})")


def _typed(sql: str, table: Table, columns: tuple[str, ...]) -> TextClause:
    return text(sql).bindparams(*[bindparam(name, type_=table.c[name].type) for name in columns])


@lru_cache(maxsize=64)
def _upsert(table: Table, keys: tuple[str, ...], deltas: tuple[str, ...],
            defaulted: tuple[str, ...]) -> TextClause:
    columns = keys + deltas + defaulted
    additions = ", ".join(f'"{name}" = "{table.name}"."{name}" + excluded."{name}"'
                          for name in deltas)
    return _typed(f"{_insert_sql(table, columns, keys)} DO UPDATE SET {additions}", table, columns)

