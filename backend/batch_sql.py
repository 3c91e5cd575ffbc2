"""PostgreSQL: a batch's new sessions and their card payments written by one statement.

Executed once per row (even pipelined), an INSERT costs the driver's per-row parameter work
in Python: about as much CPU per report as the rest of the batch. Here each table's rows go as
one JSON document (an array of row objects) that PostgreSQL unpacks itself
(`json_to_recordset`), and one statement inserts the sessions and the payments, each payment
joined to its session's new pk by session id.

The document holds exactly what the per-row INSERT would send: JSON columns as the engine's
serializer writes them (`backend.jsonutil`: exact decimals, floats refused), which a `json`
record column keeps character for character; aware datetimes in UTC with their offset;
integers, text and booleans as JSON values, which PostgreSQL converts to the column's type or
refuses (a fraction in an integer column, an over-long string), failing the statement as the
INSERT would. A document with `\\u0000` in it is not written here (PostgreSQL cannot unpack a
NUL into a record's field, where a `json` parameter keeps it): the caller stores such a batch
row by row.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnClause,
    Connection,
    Table,
    Text,
    bindparam,
    cast,
    column,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable

from backend import direct_sql, jsonutil
from backend.models import ChargingSession, Payment

_SESSIONS: Table = ChargingSession.__table__  # type: ignore[assignment]
_PAYMENTS: Table = Payment.__table__  # type: ignore[assignment]
_SESSION_COLUMNS = [c for c in _SESSIONS.c if c.key != "pk"]
_PAYMENT_COLUMNS = [c for c in _PAYMENTS.c if c.key not in ("id", "session_pk")]
_JSON_KEYS = [c.key for c in _SESSION_COLUMNS if isinstance(c.type, JSON)]
_NUL = "\\u0000"  # how the encoders write a NUL character (ensure_ascii)


def _utc(value: Any) -> str:
    """The encoder's `default`: an aware datetime in UTC (as `UtcDateTime` binds it)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC times only")
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value of a batch row")


# Scalar columns only (str, int, bool, None; datetimes by `_utc`): walked by the C encoder.
_SCALARS = json.JSONEncoder(ensure_ascii=True, allow_nan=False, default=_utc)


def _rows(name: str, columns: Sequence[Column[Any]], *extra: ColumnClause[Any]) -> Any:
    """The rows of the JSON document bound as `name`, typed as the table's columns."""
    document = cast(bindparam(name, type_=Text), JSON)
    return (
        func.json_to_recordset(document)
        .table_valued(*(column(c.name, c.type) for c in columns), *extra)
        .render_derived(name=name[0], with_types=True)
    )


def _insert() -> Executable:
    """The INSERT of both documents: `rows` (sessions) and `payments`."""
    r = _rows("rows", _SESSION_COLUMNS)
    new = (
        insert(_SESSIONS)
        .from_select(
            [c.key for c in _SESSION_COLUMNS], select(*(r.c[c.name] for c in _SESSION_COLUMNS))
        )
        .returning(_SESSIONS.c.pk, _SESSIONS.c.session_id)
        .cte("new_sessions")
    )
    p = _rows("payments", _PAYMENT_COLUMNS, column("of_session", Text))
    paid = select(*(p.c[c.name] for c in _PAYMENT_COLUMNS), new.c.pk).join_from(
        p, new, new.c.session_id == p.c.of_session
    )
    return insert(_PAYMENTS).from_select([*(c.key for c in _PAYMENT_COLUMNS), "session_pk"], paid)


def _session_json(row: dict[str, Any]) -> str:
    scalars = {k: v for k, v in row.items() if k not in _JSON_KEYS}
    text = _SCALARS.encode(scalars)
    documents = "".join(f',"{k}":{jsonutil.dumps(row[k])}' for k in _JSON_KEYS)
    return text[:-1] + documents + "}"


def write(conn: Connection, rows: list[dict[str, Any]], payments: list[dict[str, Any]]) -> bool:
    """Insert the session rows and their payments (each names its session in `of_session`)
    in the connection's transaction; False, having written nothing, if the documents hold a
    NUL. A unique violation is raised as SQLAlchemy's IntegrityError."""
    sessions = "[" + ",".join(_session_json(row) for row in rows) + "]"
    paid = _SCALARS.encode(payments)
    if _NUL in sessions or _NUL in paid:
        return False
    found = _COMPILED.get(conn.dialect)
    if found is None:
        found = _COMPILED[conn.dialect] = direct_sql.Statement(_insert(), conn.dialect)
    direct_sql.execute(conn, found.sql, found.params({"rows": sessions, "payments": paid}))
    return True


_COMPILED: weakref.WeakKeyDictionary[Dialect, direct_sql.Statement] = weakref.WeakKeyDictionary()
