"""PostgreSQL: new sessions, their card payments and their Idempotency-Key answers written by
one statement from one JSON document per table, for one report and for a batch.

Executed per row, an INSERT costs the driver's parameter work in Python, one value at a time
(about 45 values for a card report): for a batch pipelined row by row this was as much CPU per
report as the rest of the batch, for a single report a tenth of its CPU. Here each table's rows
go as one JSON document (an array of row objects) that PostgreSQL unpacks (`json_to_recordset`),
and one statement inserts the sessions, then the payments, each joined to its session's new pk
by session id (`of_session`), and the answers.

A document holds what the per-row INSERT would send: JSON columns as the engine's serializer
writes them (`backend.jsonutil`: exact decimals, floats refused), which a `json` record field
keeps character for character; aware datetimes in UTC; integers, text and booleans as JSON
values, which PostgreSQL converts to the column's type or refuses (a fraction in an integer
column, an over-long string), failing the statement as the INSERT would. Documents holding a
NUL character (`\\u0000`, which PostgreSQL cannot unpack into a record's field, where a `json`
parameter keeps it) are not made: the caller writes those rows as before, one by one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnClause,
    Text,
    bindparam,
    cast,
    column,
    exists,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import ClauseElement

from backend import direct_sql, jsonutil
from backend.models import ChargingSession, IdempotentResponse, Payment, Station, table_of

_SESSIONS = table_of(ChargingSession)
_PAYMENTS = table_of(Payment)
_ANSWERS = table_of(IdempotentResponse)
_STATIONS = table_of(Station)
_SESSION_COLUMNS = [c for c in _SESSIONS.c if c.key != "pk"]
_PAYMENT_COLUMNS = [c for c in _PAYMENTS.c if c.key not in ("id", "session_pk")]
_ANSWER_COLUMNS = list(_ANSWERS.c)
_NUL = "\\u0000"  # how the encoders write a NUL character (ensure_ascii)


def _utc(value: Any) -> str:
    """The encoder's `default`: an aware datetime in UTC (as `UtcDateTime` binds it)."""
    last = _LAST_TIME  # one read: another thread may replace it
    if value is last[0]:  # the batch's `now`, in every row's created_at (and captured_at)
        return last[1]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC times only")
        return _remember(value, value.astimezone(UTC).isoformat())
    raise TypeError(f"{type(value).__name__} is not a column value of a stored row")


def _remember(value: datetime, text: str) -> str:
    global _LAST_TIME  # noqa: PLW0603 (a one-entry cache; replacing the tuple is atomic)
    _LAST_TIME = (value, text)
    return text


_LAST_TIME: tuple[object, str] = (object(), "")


# Scalar columns only (str, int, bool, None; datetimes by `_utc`): walked by the C encoder.
_SCALARS = json.JSONEncoder(ensure_ascii=True, allow_nan=False, default=_utc)


class _Document:
    """Rows of one table as a JSON array; JSON columns written by the engine's serializer."""

    def __init__(self, columns: Sequence[Column[Any]]) -> None:
        self.json = [c.key for c in columns if isinstance(c.type, JSON)]

    def text(self, rows: Sequence[dict[str, Any]]) -> str:
        if not self.json:
            return _SCALARS.encode(rows)
        return "[" + ",".join(self._row(row) for row in rows) + "]"

    def _row(self, row: dict[str, Any]) -> str:
        documents = self.json
        scalars = _SCALARS.encode({k: v for k, v in row.items() if k not in documents})
        written = "".join(f',"{k}":{jsonutil.dumps(row[k])}' for k in documents)
        return scalars[:-1] + written + "}"


_SESSIONS_DOC = _Document(_SESSION_COLUMNS)
_PAYMENTS_DOC = _Document(_PAYMENT_COLUMNS)
_ANSWERS_DOC = _Document(_ANSWER_COLUMNS)


def documents(
    sessions: Sequence[dict[str, Any]],
    payments: Sequence[dict[str, Any]] = (),
    answers: Sequence[dict[str, Any]] = (),
) -> dict[str, str] | None:
    """The parameters of `statement`: session rows, card payments (each naming its session in
    `of_session`) and Idempotency-Key answers; None if a document would hold a NUL."""
    found = {
        "sessions": _SESSIONS_DOC.text(sessions),
        "payments": _PAYMENTS_DOC.text(payments),
        "answers": _ANSWERS_DOC.text(answers),
    }
    return None if any(_NUL in text for text in found.values()) else found


def _rows(name: str, columns: Sequence[Column[Any]], *extra: ColumnClause[Any]) -> Any:
    """The rows of the JSON document bound as `name`, typed as the table's columns."""
    document = cast(bindparam(name, type_=Text), JSON)
    return (
        func.json_to_recordset(document)
        .table_valued(*(column(c.name, c.type) for c in columns), *extra)
        .render_derived(name=name[0], with_types=True)
    )


def _insert(guarded: bool) -> ClauseElement:
    s = _rows("sessions", _SESSION_COLUMNS)
    a = _rows("answers", _ANSWER_COLUMNS)
    sessions = select(*(s.c[c.name] for c in _SESSION_COLUMNS))
    answers = select(*(a.c[c.name] for c in _ANSWER_COLUMNS))
    if guarded:
        # Only for the station whose key this is: the key's hash is checked by the statement.
        key_holds = exists().where(
            _STATIONS.c.id == bindparam("station", type_=Text),
            _STATIONS.c.key_id == bindparam("key_id", type_=Text),
            _STATIONS.c.key_hash == bindparam("key_hash", type_=Text),
        )
        sessions, answers = sessions.where(key_holds), answers.where(key_holds)
    new = (
        insert(_SESSIONS)
        .from_select([c.key for c in _SESSION_COLUMNS], sessions)
        .returning(_SESSIONS.c.pk, _SESSIONS.c.session_id)
        .cte("new_sessions")
    )
    new_answers = (
        insert(_ANSWERS).from_select([c.key for c in _ANSWER_COLUMNS], answers).cte("new_answers")
    )
    p = _rows("payments", _PAYMENT_COLUMNS, column("of_session", Text))
    paid = select(*(p.c[c.name] for c in _PAYMENT_COLUMNS), new.c.pk).join_from(
        p, new, new.c.session_id == p.c.of_session
    )
    payments = insert(_PAYMENTS).from_select(
        [*(c.key for c in _PAYMENT_COLUMNS), "session_pk"], paid
    )
    if not guarded:
        return payments.add_cte(new_answers)
    # How many sessions went in (0: not this station's key); every CTE runs, read or not.
    return select(func.count()).select_from(new).add_cte(new_answers, payments.cte("new_paid"))


_PLAIN = direct_sql.compiled_once(lambda dialect: direct_sql.Statement(_insert(False), dialect))
_GUARDED = direct_sql.compiled_once(lambda dialect: direct_sql.Statement(_insert(True), dialect))


def statement(dialect: Dialect, *, guarded: bool = False) -> direct_sql.Statement:
    """The INSERT of the three `documents`, compiled once for a PostgreSQL dialect. Guarded, it
    also takes `station`, `key_id` and `key_hash`, writes only if that station has that key,
    and returns the number of sessions written."""
    return (_GUARDED if guarded else _PLAIN)(dialect)
