"""Many session reports in one request (`POST /api/v1/sessions:batch`): a kiosk back online
after days sends its backlog at once.

Each record is stored and answered exactly as `POST /sessions` would (idempotent on its
session id, so a repeat replays the first answer), and each gets its own result: one bad
record does not refuse the others. Card and unpaid sessions are stored in one transaction:
on PostgreSQL by one INSERT of JSON documents (`backend.json_rows`), on SQLite (and for a NUL
those documents cannot carry) by one many-row INSERT per table. A QR session goes through the
single-report path, which captures its hold, and so does a session with signed meter records
(OCMF), which stores them. If another request stores one of the same sessions meanwhile, the batch
falls back to the single-report path record by record, so every session still counts once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, String, any_, bindparam, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError

from backend import direct_sql, ingest, ingest_plain, json_rows
from backend.config import Settings
from backend.db import Database
from backend.models import ChargingSession, Payment, table_of
from backend.pricing import Computed
from backend.receipts import new_receipt_id
from backend.schemas import LinkPayment, SessionReport
from backend.settlement import Settler

MAX_RECORDS = 200


class SessionBatch(BaseModel):
    sessions: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_RECORDS,
        description="session reports, each as the body of POST /sessions",
    )


class RecordResult(BaseModel):
    session_id: str | None
    status_code: int = Field(description="what POST /sessions would have answered")
    replayed: bool = False
    body: dict[str, Any] = Field(description="that answer's body (an error has `detail`)")


class BatchAck(BaseModel):
    results: list[RecordResult]


@dataclass(frozen=True)
class Record:
    """One record of a batch, validated and priced."""

    report: SessionReport
    exact: dict[str, Any]
    computed: Computed


Result = dict[str, Any]


def result(session_id: str | None, stored: ingest.Stored) -> Result:
    return {
        "session_id": session_id,
        "status_code": stored.status_code,
        "replayed": stored.replayed,
        "body": stored.body,
    }


def refused(session_id: str | None, status: int, detail: Any) -> Result:
    return result(session_id, ingest.Stored(status, {"detail": detail}, replayed=False))


def split(records: dict[int, Record]) -> tuple[dict[int, Record], dict[int, Record]]:
    """(card and unpaid records, the rest). A QR session captures its hold and a signed one
    stores its meter records: both take the single-report path, which does that in the
    session's own transaction."""
    plain: dict[int, Record] = {}
    single: dict[int, Record] = {}
    for i, r in records.items():
        one = isinstance(r.report.payment, LinkPayment) or r.report.ocmf
        (single if one else plain)[i] = r
    return plain, single


def store_batch(
    db: Database,
    settings: Settings,
    settler: Settler,
    caller: ingest.Caller,
    records: dict[int, Record],
    *,
    receipt_url: Callable[[str], str],
) -> dict[int, Result]:
    """Results by record index. Raises ingest.Unauthorized for a key that names no station."""
    plain, single = split(records)
    try:
        results, pending = _store_plain(db, settings, caller, plain, receipt_url)
    except IntegrityError:
        # A concurrent request stored one of these sessions first: one by one, each answered
        # as its single report would be.
        results, pending = {}, plain
    results.update(
        store_each(db, settings, settler, caller, {**pending, **single}, receipt_url=receipt_url)
    )
    return results


def store_each(
    db: Database,
    settings: Settings,
    settler: Settler,
    caller: ingest.Caller,
    records: dict[int, Record],
    *,
    receipt_url: Callable[[str], str],
) -> dict[int, Result]:
    """Records stored one by one, in their order, each as its single report would be."""
    one = ingest.Caller(caller.authorization)
    return {
        i: _store_one(db, settings, settler, one, record, receipt_url=receipt_url)
        for i, record in sorted(records.items())
    }


def _store_one(
    db: Database,
    settings: Settings,
    settler: Settler,
    caller: ingest.Caller,
    record: Record,
    *,
    receipt_url: Callable[[str], str],
) -> Result:
    sid = record.report.session_id
    try:
        stored = ingest_plain.store_session(
            db,
            settings,
            settler,
            caller,
            report=record.report,
            exact=record.exact,
            computed=record.computed,
            receipt_url=receipt_url,
        )
    except ingest.InProgress:
        return refused(sid, 503, "the first report of this session is still being settled")
    except ingest.IngestError as exc:
        loc = ["body", *exc.field.split(".")]
        return refused(sid, exc.status, [{"loc": loc, "msg": str(exc), "type": "value_error"}])
    return result(sid, stored)


_SESSIONS = table_of(ChargingSession)
_PAYMENTS = table_of(Payment)
# SQLite, and PostgreSQL for rows json_rows cannot carry. Executed many times without
# RETURNING: the driver sends one short statement per row in a pipeline (psycopg caches and
# prepares it), where a multi-row VALUES with RETURNING would be a new statement text of
# thousands of parameters for the driver to parse each time. A card payment finds its
# session's pk by the session's unique key.
_INSERT_SESSIONS = insert(_SESSIONS).inline()
_INSERT_PAYMENTS = (
    insert(_PAYMENTS)
    .inline()
    .values(
        session_pk=select(_SESSIONS.c.pk)
        .where(
            _SESSIONS.c.station_id == bindparam("of_station"),
            _SESSIONS.c.session_id == bindparam("of_session"),
        )
        .scalar_subquery()
    )
)
_STORED = select(_SESSIONS.c.session_id, _SESSIONS.c.response).where(
    _SESSIONS.c.station_id == bindparam("station_id"),
    _SESSIONS.c.session_id.in_(bindparam("ids", expanding=True)),
)
# PostgreSQL: the ids as one array parameter. An expanding IN makes SQLAlchemy write the
# statement anew for each batch (0.05 ms of CPU per record at 100 records) and the driver
# parse and prepare a new text for each length.
STORED_PG = select(_SESSIONS.c.session_id, _SESSIONS.c.response).where(
    _SESSIONS.c.station_id == bindparam("station_id"),
    _SESSIONS.c.session_id == any_(bindparam("ids", type_=postgresql.ARRAY(String))),
)
_CHUNK = 500


@dataclass(frozen=True)
class _Inserts:
    sessions: direct_sql.Statement
    payments: direct_sql.Statement


def _inserts(dialect: Dialect) -> _Inserts:
    """The batch's INSERTs compiled for a dialect (see backend.direct_sql: the rows go to the
    driver without SQLAlchemy's per-row parameter processing)."""
    sessions = [c.key for c in _SESSIONS.c if c.key != "pk"]
    payments = [c.key for c in _PAYMENTS.c if c.key not in ("id", "session_pk")]
    return _Inserts(
        direct_sql.Statement(_INSERT_SESSIONS, dialect, columns=sessions),
        direct_sql.Statement(_INSERT_PAYMENTS, dialect, columns=payments),
    )


_statements = direct_sql.compiled_once(_inserts)


def _store_plain(
    db: Database,
    settings: Settings,
    caller: ingest.Caller,
    records: dict[int, Record],
    receipt_url: Callable[[str], str],
) -> tuple[dict[int, Result], dict[int, Record]]:
    """Card and unpaid sessions in one transaction. Returns the results and the records
    whose first report is still being answered (left to the single-report path)."""
    now = settings.now()
    with db.engine.begin() as conn:
        station_id = ingest.station_on(conn, caller)
        ids = sorted({r.report.session_id for r in records.values()})
        stored: dict[str, dict[str, Any]] = {}
        stored_sql = STORED_PG if conn.dialect.name == "postgresql" else _STORED
        for lo in range(0, len(ids), _CHUNK):
            found = conn.execute(
                stored_sql, {"station_id": station_id, "ids": ids[lo : lo + _CHUNK]}
            )
            stored.update((sid, response) for sid, response in found)
        plan = plan_rows(station_id, stored, records, receipt_url, now)
        if plan.rows:
            _write(conn, plan.rows, plan.payments)
    return plan.results, plan.pending


def _write(conn: Connection, rows: list[dict[str, Any]], payments: list[dict[str, Any]]) -> None:
    # PostgreSQL: one INSERT of JSON documents (backend.json_rows), if they can be made.
    docs = json_rows.documents(rows, payments) if conn.dialect.name == "postgresql" else None
    if docs is not None:
        write = json_rows.statement(conn.dialect)
        direct_sql.execute(conn, write.sql, write.params(docs))
        return
    sql = _statements(conn.dialect)
    direct_sql.executemany(conn, sql.sessions, rows)
    if payments:
        direct_sql.executemany(conn, sql.payments, payments)


@dataclass
class Plan:
    """What a batch's card and unpaid records come to, once the stored ones are known."""

    results: dict[int, Result]  # by record index: new sessions and replayed answers
    pending: dict[int, Record]  # stored, their first answer not yet written
    rows: list[dict[str, Any]]  # new sessions
    payments: list[dict[str, Any]]  # their card payments, naming them in of_station/of_session


def plan_rows(
    station_id: str,
    stored: dict[str, dict[str, Any]],
    records: dict[int, Record],
    receipt_url: Callable[[str], str],
    now: datetime,
) -> Plan:
    """The rows to insert and the answers, given the stored sessions' answers by id."""
    plan = Plan({}, {}, [], [])
    stored = dict(stored)
    for i, record in sorted(records.items()):
        report = record.report
        sid = report.session_id
        if sid in stored:
            if stored[sid]:
                plan.results[i] = result(sid, ingest.Stored(201, stored[sid], replayed=True))
            else:
                plan.pending[i] = record
            continue
        receipt_id = new_receipt_id()
        row = ingest.session_values(
            station_id,
            report,
            record.exact,
            record.computed,
            receipt_id=receipt_id,
            link_id=None,
            now=now,
        )
        pay = ingest.card_values(station_id, report, now)
        body = ingest.first_body(report, record.computed, receipt_url(receipt_id), pay)
        row["response"] = body
        stored[sid] = body  # a second record with this id in the batch is its repeat
        plan.rows.append(row)
        if pay is not None:
            del pay["session_pk"]
            plan.payments.append({**pay, "of_station": station_id, "of_session": sid})
        plan.results[i] = result(sid, ingest.Stored(201, body, replayed=False))
    return plan
