"""Core statements compiled once per dialect and run straight on a pooled DBAPI connection:
the session ingest's hot path.

For a report's few short statements, SQLAlchemy's per-execution work (cache key, execution
context, result object, transaction and connection objects, events) costs more CPU than the
database's round trips: about 0.1 ms per statement and 0.2 ms per transaction on the 2-core
benchmark machine. Here a statement is compiled once by SQLAlchemy for the engine's dialect
(the same SQL text, parameter style and type conversions, e.g. JSON through the engine's
serializer and aware UTC datetimes through `UtcDateTime`), and each execution only converts
its parameters and calls the driver. The connection comes from the engine's pool and goes
back to it; a connection the server dropped is invalidated, as SQLAlchemy's own execution
path does.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any]
T = TypeVar("T")


def compiled_once(build: Callable[[Dialect], T]) -> Callable[[Dialect], T]:
    """`build(dialect)` (statements compiled for that dialect) made once per dialect."""
    made: weakref.WeakKeyDictionary[Dialect, T] = weakref.WeakKeyDictionary()

    def get(dialect: Dialect) -> T:
        found = made.get(dialect)
        if found is None:
            found = made[dialect] = build(dialect)
        return found

    return get


class Statement:
    """A Core statement compiled for one dialect; `params()` makes the driver's parameters."""

    def __init__(
        self,
        stmt: ClauseElement,
        dialect: Dialect,
        *,
        columns: Sequence[str] | None = None,
        results: Sequence[TypeEngine[Any] | None] = (),
    ) -> None:
        # An INSERT's values: exactly `columns` (a column left out whose default SQLAlchemy
        # would compute is still a parameter, and its execution fails for want of it).
        compiled = stmt.compile(dialect=dialect, column_keys=list(columns or []) or None)
        assert isinstance(compiled, SQLCompiler)  # a Core statement: it has binds
        self.sql = compiled.string
        self._order: Sequence[str] | None = getattr(compiled, "positiontup", None)
        self._binds: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            # The type as the dialect runs it (a TypeDecorator's own step and its impl's, e.g.
            # SQLite's datetime-to-text), as SQLAlchemy's own execution does.
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self._binds[name] = process
        self._results: list[Processor | None] = [
            None if t is None else t.dialect_impl(dialect).result_processor(dialect, None)
            for t in results
        ]

    def params(self, values: Mapping[str, Any]) -> Any:
        binds = self._binds
        converted = {k: binds[k](v) if k in binds else v for k, v in values.items()}
        if self._order is None:
            return converted
        return tuple(converted[name] for name in self._order)

    def row(self, raw: Sequence[Any] | None) -> list[Any] | None:
        """A fetched row with its result types applied (JSON parsed where the driver did not)."""
        if raw is None:
            return None
        results = self._results
        row: list[Any] = []
        for i, value in enumerate(raw):
            process = results[i] if i < len(results) else None
            row.append(value if process is None else process(value))
        return row


class Cursor:
    """Statements executed on one DBAPI cursor (see `connection` for when they commit)."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self._cursor = cursor
        self.dialect = dialect

    def execute(self, statement: Statement, values: Mapping[str, Any]) -> None:
        self._cursor.execute(statement.sql, statement.params(values))

    def first(self, statement: Statement, values: Mapping[str, Any]) -> list[Any] | None:
        self.execute(statement, values)
        return statement.row(self._cursor.fetchone())


@contextmanager
def connection(engine: Engine) -> Iterator[Cursor]:
    """A pooled connection for a few statements, back to the pool when the block ends.

    On PostgreSQL each statement commits by itself (autocommit: no BEGIN and COMMIT round
    trips, each as costly in CPU as a statement), so a write that must be atomic is written as
    one statement. On SQLite, where a statement costs no round trip, the block is one
    transaction, committed when it ends and rolled back on an exception; it takes the write
    lock at its start (BEGIN IMMEDIATE), as the engine's own transactions do, so writers queue
    instead of failing on lock upgrade.
    """
    dialect = engine.dialect
    pooled = engine.raw_connection()
    driver = pooled.dbapi_connection
    sqlite = dialect.name == "sqlite"
    if not sqlite:
        driver.autocommit = True  # type: ignore[union-attr]
    cursor = pooled.cursor()
    try:
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        yield Cursor(cursor, dialect.name)
        if sqlite:
            pooled.commit()
    except BaseException as exc:
        if isinstance(exc, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
            exc, driver, cursor
        ):
            # As SQLAlchemy's own execution does: every connection this pool opened before
            # now is replaced at its next checkout (this one at once); the client retries.
            engine.pool._invalidate(pooled, exc)
        elif sqlite:
            pooled.rollback()
        raise
    finally:
        if pooled.is_valid:
            cursor.close()
            try:
                if not sqlite:
                    driver.autocommit = False  # type: ignore[union-attr]
            except dialect.loaded_dbapi.Error as exc:  # left mid-statement: not pooled again
                pooled.invalidate(exc)
            else:
                pooled.close()


def executemany(conn: Connection, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
    """Many rows in the transaction of a SQLAlchemy connection, on its DBAPI cursor (psycopg
    pipelines them). A driver error is raised as SQLAlchemy's (IntegrityError, ...), and a
    dropped connection is invalidated, as SQLAlchemy's own execution does."""
    params = [statement.params(row) for row in rows]
    _on_driver(conn, statement.sql, lambda cursor: cursor.executemany(statement.sql, params))


def execute(conn: Connection, sql: str, params: Mapping[str, Any]) -> None:
    """One statement in the driver's own parameter style, in the transaction of a SQLAlchemy
    connection; errors as `executemany` raises them."""
    _on_driver(conn, sql, lambda cursor: cursor.execute(sql, params))


def _on_driver(conn: Connection, sql: str, run: Callable[[Any], object]) -> None:
    dialect = conn.dialect
    cursor = conn.connection.cursor()
    try:
        run(cursor)
    except dialect.loaded_dbapi.Error as exc:
        dropped = dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
        if dropped:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql, None, exc, dialect.loaded_dbapi.Error, connection_invalidated=dropped
        ) from exc
    finally:
        cursor.close()
