"""Where a session report is stored: a card or unpaid session without signed meter records
(nearly every report) by the statements of `session_steps` on the direct SQL path
(`backend.direct_sql`; on PostgreSQL from the event loop too, `backend.ingest_async`); a
QR-link session (its hold is captured) and a session with signed records (OCMF) by
`ingest.store_session`.

Both paths answer alike and keep the same rules: the station's key, the Idempotency-Key and
the session id are checked before the session is stored with its answer, or by the statement
that stores it; a repeat replays the first answer; a concurrent repeat that loses the insert
on the unique (station, session id) answers as the winner did.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, insert, select
from sqlalchemy.engine import Dialect

from backend import auth, direct_sql, ingest, json_rows
from backend.config import Settings
from backend.db import Database
from backend.models import ChargingSession, IdempotentResponse, Payment, Station, table_of
from backend.pricing import Computed
from backend.receipts import new_receipt_id
from backend.schemas import LinkPayment, SessionReport
from backend.settlement import Settler

_SESSIONS = table_of(ChargingSession)
_PAYMENTS = table_of(Payment)
_KEYS = table_of(IdempotentResponse)
_SESSION_COLUMNS = [c.key for c in _SESSIONS.c if c.key != "pk"]
_PAYMENT_COLUMNS = [c.key for c in _PAYMENTS.c if c.key not in ("id", "session_pk")]
_KEY_COLUMNS = [c.key for c in _KEYS.c]


_STATIONS = table_of(Station)
# One round trip for the checks before a report is stored: the caller's station and key hash,
# the answer stored for this session id (None: a new session), and the answer stored for the
# request's Idempotency-Key (its columns NULL without one: `key = NULL` matches nothing).
_STATION_FIRST_KEYED = (
    select(
        _STATIONS.c.id,
        _STATIONS.c.key_hash,
        select(_SESSIONS.c.response)
        .where(
            _SESSIONS.c.station_id == _STATIONS.c.id,
            _SESSIONS.c.session_id == bindparam("sid"),
        )
        .scalar_subquery(),
        _KEYS.c.endpoint,
        _KEYS.c.request_hash,
        _KEYS.c.status_code,
        _KEYS.c.body,
    )
    .select_from(
        _STATIONS.outerjoin(
            _KEYS, and_(_KEYS.c.station_id == _STATIONS.c.id, _KEYS.c.key == bindparam("key"))
        )
    )
    .where(_STATIONS.c.key_id == bindparam("key_id"))
)


def _write(with_payment: bool, with_key: bool) -> Select[Any]:
    """PostgreSQL: the session, its card payment and its Idempotency-Key answer stored by one
    statement (atomic without a transaction around it); returns the session's pk. The
    payment's and the key's values are named p_<column> and k_<column>."""
    session = (
        insert(_SESSIONS)
        .values({c: bindparam(c, type_=_SESSIONS.c[c].type) for c in _SESSION_COLUMNS})
        .returning(_SESSIONS.c.pk)
        .cte("s")
    )
    also = []
    if with_payment:
        values = [bindparam(f"p_{c}", type_=_PAYMENTS.c[c].type) for c in _PAYMENT_COLUMNS]
        payment = insert(_PAYMENTS).from_select(
            [*_PAYMENT_COLUMNS, "session_pk"], select(*values, session.c.pk)
        )
        also.append(payment.cte("p"))
    if with_key:
        key = insert(_KEYS).values(
            {c: bindparam(f"k_{c}", type_=_KEYS.c[c].type) for c in _KEY_COLUMNS}
        )
        also.append(key.cte("k"))
    return select(session.c.pk).add_cte(*also)


class _Statements:
    """The ingest's statements compiled for one engine's dialect (its JSON serializer too)."""

    def __init__(self, dialect: Dialect) -> None:
        self.station_first_keyed = direct_sql.Statement(
            _STATION_FIRST_KEYED,
            dialect,
            results=[None, None, _SESSIONS.c.response.type, None, None, None, _KEYS.c.body.type],
        )
        self.guarded_write: direct_sql.Statement | None = None
        if dialect.name == "postgresql":
            self.json_write = json_rows.statement(dialect)
            self.guarded_write = json_rows.statement(dialect, guarded=True)
            self.writes = {
                (p, k): direct_sql.Statement(_write(p, k), dialect)
                for p in (False, True)
                for k in (False, True)
            }
        else:
            self.insert_session = direct_sql.Statement(
                ingest.INSERT_SESSION, dialect, columns=_SESSION_COLUMNS
            )
            self.insert_payment = direct_sql.Statement(
                ingest.INSERT_PAYMENT.inline(), dialect, columns=[*_PAYMENT_COLUMNS, "session_pk"]
            )
            self.insert_key = direct_sql.Statement(
                ingest.INSERT_KEY.inline(), dialect, columns=_KEY_COLUMNS
            )


statements = direct_sql.compiled_once(_Statements)


# A statement, its values, and whether its first row is wanted (sent back into the steps).
Step = tuple[direct_sql.Statement, Mapping[str, Any], bool]
Steps = Generator[Step, list[Any] | None, ingest.Stored]


class Repeat(Exception):
    """This session id is stored already, or a concurrent report won its insert ({}): the
    answer is waited for outside the transaction, which would hold the lock the first report
    needs to write it."""

    def __init__(self, station_id: str, response: dict[str, Any]) -> None:
        super().__init__()
        self.station_id = station_id
        self.response = response


class Conflict(Exception):
    """Thrown into the steps when the driver refuses their insert on a unique key."""


def _writes(
    sql: _Statements,
    dialect: str,
    row: dict[str, Any],
    payment: dict[str, Any] | None,
    key: dict[str, Any] | None,
) -> Generator[Step, list[Any] | None, None]:
    """The session row with its card payment and its Idempotency-Key answer, if any."""
    if dialect == "postgresql":
        docs = _documents(row, payment, key)
        if docs is not None:  # one parameter each, not one per column (backend.json_rows)
            yield sql.json_write, docs, False
            return
        values = dict(row)
        for prefix, extra in (("p_", payment), ("k_", key)):
            if extra is not None:
                values.update((prefix + name, value) for name, value in extra.items())
        yield sql.writes[payment is not None, key is not None], values, False
        return
    inserted = yield sql.insert_session, row, True
    assert inserted is not None
    if payment is not None:
        yield sql.insert_payment, {**payment, "session_pk": inserted[0]}, False
    if key is not None:
        yield sql.insert_key, key, False


def _documents(
    row: dict[str, Any], payment: dict[str, Any] | None, key: dict[str, Any] | None
) -> dict[str, str] | None:
    """One session's rows as `json_rows` documents (None: a NUL they cannot carry)."""
    paid = [] if payment is None else [{**payment, "of_session": row["session_id"]}]
    return json_rows.documents([row], paid, [] if key is None else [key])


@dataclass(frozen=True)
class _New:
    """A new session's rows and its answer."""

    row: dict[str, Any]
    payment: dict[str, Any] | None
    key: dict[str, Any] | None
    answer: ingest.Stored


# Station ids by key id, learnt from reports whose key checked out: with it a new report is
# written in one round trip (`_written_at_once`), its key checked by the statement itself.
_STATION_OF_KEY: dict[str, str] = {}
_KEYS_KEPT = 10_000


def _written_at_once(
    guarded_write: direct_sql.Statement, station_id: str, parts: tuple[str, str], new: _New
) -> Generator[Step, list[Any] | None, bool]:
    """PostgreSQL: the new session written by one statement that checks the station's key and
    refuses a stored session id or Idempotency-Key. False when it was not written (a repeat, a
    reused key, another key): the checks then run one by one."""
    docs = _documents(new.row, new.payment, new.key)
    if docs is None:
        return False
    checked = {"station": station_id, "key_id": parts[0], "key_hash": auth.hash_secret(parts[1])}
    try:
        written = yield guarded_write, {**docs, **checked}, True
    except Conflict:
        return False
    return written is not None and written[0] == 1


def session_steps(
    dialect: Dialect,
    caller: ingest.Caller,
    *,
    report: SessionReport,
    exact: dict[str, Any],
    computed: Computed,
    receipt_url: Callable[[str], str],
    now: datetime,
) -> Steps:
    """A card or unpaid session's statements, whichever driver runs them (`run`, and
    `backend.ingest_async`). Raises Unauthorized, KeyReused, or Repeat for a stored one."""
    sql = statements(dialect)
    parts = auth.key_parts(caller.authorization)
    if parts is None:
        raise ingest.Unauthorized

    def new_rows(station_id: str) -> _New:
        receipt_id = new_receipt_id()
        row = ingest.session_values(
            station_id, report, exact, computed, receipt_id=receipt_id, link_id=None, now=now
        )
        pay = ingest.card_values(station_id, report, now)
        body = ingest.first_body(report, computed, receipt_url(receipt_id), pay)
        row["response"] = body
        if pay is not None:
            del pay["session_pk"]
        answer = ingest.Stored(201, body, replayed=False)
        key = (
            ingest.key_row(station_id, caller, "sessions", answer, now)
            if caller.key is not None
            else None
        )
        return _New(row, pay, key, answer)

    known = _STATION_OF_KEY.get(parts[0])
    if known is not None and sql.guarded_write is not None:  # PostgreSQL
        new = new_rows(known)
        if (yield from _written_at_once(sql.guarded_write, known, parts, new)):
            _log_mismatch(known, report, computed)
            return new.answer
    found = yield (
        sql.station_first_keyed,
        {"key_id": parts[0], "sid": report.session_id, "key": caller.key},
        True,
    )
    if found is None or not auth.secret_matches(parts[1], found[1]):
        raise ingest.Unauthorized
    station_id, first, endpoint, request_hash, status_code, body = str(found[0]), *found[2:]
    if len(_STATION_OF_KEY) >= _KEYS_KEPT:
        _STATION_OF_KEY.clear()
    _STATION_OF_KEY[parts[0]] = station_id
    if endpoint is not None:  # the Idempotency-Key's answer is stored
        if endpoint != "sessions" or request_hash != caller.request_hash:
            raise ingest.KeyReused
        return ingest.Stored(status_code, body, replayed=True)
    if first is not None:
        raise Repeat(station_id, first)
    new = new_rows(station_id)
    try:
        yield from _writes(sql, dialect.name, new.row, new.payment, new.key)
    except Conflict:
        # A concurrent repeat of the same session id won the insert: answer as it did.
        raise Repeat(station_id, {}) from None
    _log_mismatch(station_id, report, computed)
    return new.answer


def _log_mismatch(station_id: str, report: SessionReport, computed: Computed) -> None:
    if computed.total_minor != report.total_cost:
        ingest.log.warning(
            "session %s/%s: reported cost %d differs from computed %d",
            station_id,
            report.session_id,
            report.total_cost,
            computed.total_minor,
        )


def run(cur: direct_sql.Cursor, steps: Steps, conflict: type[Exception]) -> ingest.Stored:
    """The steps run on a cursor; the driver's `conflict` error is thrown back into them."""
    step = next(steps)
    while True:
        statement, values, fetch = step
        row = None
        try:
            if fetch:
                row = cur.first(statement, values)
            else:
                cur.execute(statement, values)
        except conflict:
            step = steps.throw(Conflict())
            continue
        try:
            step = steps.send(row)
        except StopIteration as done:
            stored: ingest.Stored = done.value
            return stored


def store_session(
    db: Database,
    settings: Settings,
    settler: Settler,
    caller: ingest.Caller,
    *,
    report: SessionReport,
    exact: dict[str, Any],
    computed: Computed,
    receipt_url: Callable[[str], str],
) -> ingest.Stored:
    """Store a completed session once (see the module's doc); repeats replay the answer."""
    if isinstance(report.payment, LinkPayment) or report.ocmf:
        return ingest.store_session(
            db,
            settings,
            settler,
            caller,
            report=report,
            exact=exact,
            computed=computed,
            receipt_url=receipt_url,
        )
    dialect = db.engine.dialect
    steps = session_steps(
        dialect,
        caller,
        report=report,
        exact=exact,
        computed=computed,
        receipt_url=receipt_url,
        now=settings.now(),
    )
    try:
        with direct_sql.connection(db.engine) as cur:
            return run(cur, steps, dialect.loaded_dbapi.IntegrityError)
    except Repeat as repeat:
        return ingest.first_answer(db, repeat.station_id, report.session_id, repeat.response)
