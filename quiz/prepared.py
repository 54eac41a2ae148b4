"""The busiest statements, compiled by SQLAlchemy once per dialect and run on the driver's cursor.

SQLAlchemy's execution of a statement already compiled and cached cost about 40 µs of CPU on
the bench machine, the driver's own about 6 µs (bench/results-load.md). The submission runs
two statements on PostgreSQL (the paper, then its result) and six on SQLite; the paper page
reads one. For those, SQLAlchemy still writes the SQL and converts the values both ways (its
bind and result processors: dates, enums, JSON); only the execution is the driver's. A driver
error comes back as SQLAlchemy's exception, so the error pages work as for any other
statement, and a dropped connection is invalidated so that the pool replaces it.

On SQLite a statement that writes first takes the writer's turn (quiz.sqlite_writer), as
SQLAlchemy's own statements do through its events.

They run on one driver cursor kept with each pooled connection (kept_cursor): making a
psycopg cursor was a sixth of the paper page's read on PostgreSQL.
"""
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Executable

from quiz.sqlite_writer import is_write, take_turn


@dataclass(frozen=True)
class CompiledStatement:
    """One statement as one dialect's SQL, with the conversions SQLAlchemy applies."""

    sql: str
    positions: tuple[str, ...] | None  # parameter names in order, for positional paramstyles
    given: dict[str, Any]  # the values written into the statement itself (converted)
    bind_processors: tuple[tuple[str, Callable[[Any], Any]], ...]
    result_processors: tuple[Callable[[Any], Any] | None, ...]
    writes: bool  # INSERT, UPDATE, DELETE or REPLACE

    @classmethod
    def of(cls, statement: Executable, dialect: Dialect) -> "CompiledStatement":
        compiled = statement.compile(dialect=dialect)
        processors, given = [], {}
        for name, bind in compiled.binds.items():
            if bind.expanding:
                raise ValueError(f"{name}: IN lists are not supported here")
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if not bind.required:
                value = bind.effective_value
                given[name] = process(value) if process and value is not None else value
            elif process is not None:
                processors.append((name, process))
        columns = getattr(statement, "selected_columns", ())
        sql = str(compiled)
        return cls(sql, tuple(compiled.positiontup or ()) or None, given,
                   tuple(processors),
                   tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                         for column in columns),
                   is_write(sql))

    def parameters(self, values: dict[str, Any]):
        values = {**self.given, **values} if self.given else dict(values)
        for name, process in self.bind_processors:
            value = values.get(name)
            if value is not None:
                values[name] = process(value)
        return [values[name] for name in self.positions] if self.positions else values

    def convert(self, row: Sequence) -> tuple:
        return tuple([value if process is None or value is None else process(value)
                      for process, value in zip(self.result_processors, row, strict=True)])


_KEPT_CURSOR = "quiz.prepared.cursor"


def kept_cursor(pooled: PoolProxiedConnection):
    """The driver cursor kept with this pooled connection for the statements run here.

    A psycopg cursor took 85,000 of the 543,000 instructions of the paper's read (callgrind,
    bench/results-load.md); one cursor serves every statement run on the same DBAPI connection,
    one at a time as the connection itself. It lives in the connection's ``info``, which
    SQLAlchemy empties when it replaces a connection that was lost or recycled.
    """
    cursor = pooled.info.get(_KEPT_CURSOR)
    if cursor is None:
        cursor = pooled.info[_KEPT_CURSOR] = pooled.dbapi_connection.cursor()
    return cursor


class Prepared:
    """A statement to run on a Connection's driver cursor; compiled once per dialect."""

    def __init__(self, statement: Executable):
        self.statement = statement
        self._compiled: dict[tuple[str, str], CompiledStatement] = {}

    def compiled_for(self, dialect: Dialect) -> CompiledStatement:
        key = (dialect.name, dialect.driver)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled.setdefault(key, CompiledStatement.of(self.statement, dialect))
        return found

    def execute(self, connection: Connection, values: dict[str, Any]) -> "Outcome":
        """Run it once; returns the rows (for a SELECT, converted) and the row count."""
        return self._run(connection, [values], many=False)

    def execute_many(self, connection: Connection, rows: list[dict[str, Any]]) -> "Outcome":
        return self._run(connection, rows, many=True)

    def _run(self, connection: Connection, rows: list[dict[str, Any]], many: bool) -> "Outcome":
        dialect = connection.dialect
        compiled = self.compiled_for(dialect)
        parameters = [compiled.parameters(values) for values in rows]
        if compiled.writes:
            take_turn(connection.engine)  # on SQLite, as SQLAlchemy's own statements do
        pooled = connection.connection  # the pool's proxy: same transaction
        cursor = kept_cursor(pooled)
        try:
            if many:
                cursor.executemany(compiled.sql, parameters)
            else:
                cursor.execute(compiled.sql, parameters[0])
            # Rows are read to the end even when nobody wants them: on SQLite a statement not
            # read to its end stays open on the kept cursor and holds its read.
            fetched = cursor.fetchall() if cursor.description is not None else []
            rows = [compiled.convert(row) for row in fetched] if compiled.result_processors else []
            return Outcome(rows, cursor.rowcount)
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
            if lost:
                connection.invalidate(error)  # also forgets the kept cursor
            raise exc.DBAPIError.instance(
                compiled.sql, parameters if many else parameters[0], error,
                dialect.loaded_dbapi.Error, connection_invalidated=lost,
                dialect=dialect) from error


@dataclass
class Outcome:
    rows: list[tuple]
    rowcount: int
