"""Counters kept with one atomic upsert, so concurrent requests never lose an increment.

The statements are SQL text because SQLAlchemy cannot cache the compiled form of its ON
CONFLICT constructs: they were compiled anew on every submission. This text is the same on
SQLite (3.24 and later) and PostgreSQL, is built once per table and shape, and its
parameters keep their column types (enums, dates).
"""
from functools import lru_cache

from sqlalchemy import Connection, Table, bindparam, text

from quiz.extensions import db
from quiz.prepared import Prepared


def add_to_counter(model, keys: dict, deltas: dict[str, int],
                   connection: Connection | None = None) -> None:
    """Add deltas to the row identified by keys, creating it if it does not exist yet.

    The first request of a day or a unit creates the row, every later one adds to it, and
    two first requests at once cannot collide. The keys must be the columns of one of the
    table's unique constraints. The caller commits. ``connection``: the session's own, when
    the caller holds it (quiz.attempts), after the transaction's first write: the statement then
    runs on the driver's cursor, which spares SQLAlchemy's work per statement.
    """
    values = {**keys, **deltas}
    defaults = _defaults(model, values)
    statement = _upsert(model.__table__, tuple(keys), tuple(deltas), tuple(defaults))
    _execute(statement, {**defaults, **values}, connection)


def insert_unless_present(model, unique_keys: tuple[str, ...], values: dict,
                          connection: Connection | None = None) -> bool:
    """Insert a row unless one with the same unique keys exists; True when it was inserted."""
    values = {**_defaults(model, values), **values}
    statement = _insert_unless_present(model.__table__, unique_keys, tuple(values))
    return _execute(statement, values, connection) == 1


def _execute(statement: Prepared, values: dict, connection: Connection | None) -> int:
    """Run through the session, or on the caller's connection's driver cursor (quiz.prepared);
    the row count."""
    if connection is None:
        return db.session.execute(statement.statement, values).rowcount
    return statement.execute(connection, values).rowcount


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


def _typed(sql: str, table: Table, columns: tuple[str, ...]) -> Prepared:
    return Prepared(text(sql).bindparams(*[bindparam(name, type_=table.c[name].type)
                                           for name in columns]))


@lru_cache(maxsize=64)
def _upsert(table: Table, keys: tuple[str, ...], deltas: tuple[str, ...],
            defaulted: tuple[str, ...]) -> Prepared:
    columns = keys + deltas + defaulted
    additions = ", ".join(f'"{name}" = "{table.name}"."{name}" + excluded."{name}"'
                          for name in deltas)
    return _typed(f"{_insert_sql(table, columns, keys)} DO UPDATE SET {additions}", table, columns)


@lru_cache(maxsize=64)
def _insert_unless_present(table: Table, unique_keys: tuple[str, ...],
                           columns: tuple[str, ...]) -> Prepared:
    return _typed(f"{_insert_sql(table, columns, unique_keys)} DO NOTHING", table, columns)
