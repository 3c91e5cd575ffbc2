"""Session reports, stand-alone payments and terminal totals from stations.

A session report is stored once per (station, session id); its first answer is stored with it
and replayed to every repeat. For a QR-link session the hold is captured for the cost the
tariff engine computes from the snapshot and meter values (capped at the hold), or released
when that cost is zero. The reported cost is kept beside the computed one, so a mismatch is on
record for reconciliation rather than silently accepted.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import auth
from backend.config import Settings
from backend.db import Database
from backend.models import (
    ChargingSession,
    IdempotentResponse,
    Payment,
    PaymentLink,
    Station,
    TerminalTotals,
    table_of,
)
from backend.ocmf import store_records as store_ocmf_records
from backend.pricing import Computed
from backend.receipts import new_receipt_id
from backend.schemas import (
    CardPayment,
    LinkPayment,
    PaymentReport,
    SessionReport,
    TerminalTotalsReport,
)
from backend.settlement import Settler

log = logging.getLogger(__name__)

# How long a repeat waits for the first report's answer before answering 409 (retry).
FIRST_ANSWER_WAIT_S = 20.0


class IngestError(Exception):
    """A report that names something this station does not own; `status` is the HTTP answer."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Stored:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def _card_payment_values(station_id: str, p: CardPayment, now: datetime) -> dict[str, Any]:
    captured = p.captured_amount if p.status == "captured" else None
    if p.status == "captured" and captured is None:
        captured = p.authorized_amount
    return {
        "station_id": station_id,
        "method": "card",
        "link_id": None,
        "session_pk": None,
        "gateway": None,
        "gateway_ref": None,
        "currency": "",
        "authorized_minor": p.authorized_amount,
        "captured_minor": captured,
        "released": p.status == "released",
        "status": p.status,
        "failure": "",
        "terminal_id": p.terminal_id,
        "receipt_no": p.receipt_no,
        "trace_no": p.trace_no,
        "auth_code": p.auth_code,
        "card_brand": p.card_brand,
        "masked_pan": p.masked_pan,
        "created_at": now,
        "captured_at": now if captured is not None else None,
    }


def _card_payment_row(station_id: str, p: CardPayment, now: datetime) -> Payment:
    return Payment(**_card_payment_values(station_id, p, now))


def _existing(s: Session, station_id: str, session_id: str) -> ChargingSession | None:
    return s.scalar(
        select(ChargingSession).where(
            ChargingSession.station_id == station_id, ChargingSession.session_id == session_id
        )
    )


def _stored_response(s: Session, station_id: str, session_id: str) -> dict[str, Any] | None:
    """The answer stored with a session ({} while its hold is being settled), or None."""
    return s.scalar(
        select(ChargingSession.response).where(
            ChargingSession.station_id == station_id, ChargingSession.session_id == session_id
        )
    )


class Unauthorized(Exception):
    """The bearer key names no station (answered 401)."""


class KeyReused(Exception):
    """The Idempotency-Key was used before with another request (answered 422)."""


@dataclass(frozen=True)
class Caller:
    """Who sends a report: the Authorization header (checked in the report's own
    transaction) and the request's Idempotency-Key with the hash of the request."""

    authorization: str | None
    key: str | None = None
    request_hash: str = ""


_SESSIONS = table_of(ChargingSession)
_PAYMENTS = table_of(Payment)
_KEYS = table_of(IdempotentResponse)


_ST = table_of(Station)
# Built once: a statement built per report costs more CPU than the database spends on it.
_STATION_AND_FIRST = select(
    _ST.c.id,
    _ST.c.key_hash,
    select(_SESSIONS.c.response)
    .where(_SESSIONS.c.station_id == _ST.c.id, _SESSIONS.c.session_id == bindparam("sid"))
    .scalar_subquery(),
).where(_ST.c.key_id == bindparam("key_id"))
STATION = select(_ST.c.id, _ST.c.key_hash).where(_ST.c.key_id == bindparam("key_id"))
INSERT_SESSION = insert(_SESSIONS).returning(_SESSIONS.c.pk)
INSERT_PAYMENT = insert(_PAYMENTS)
INSERT_KEY = insert(_KEYS)
_KEYED = select(_KEYS).where(
    _KEYS.c.station_id == bindparam("station_id"), _KEYS.c.key == bindparam("key")
)


def _station_and_first(
    conn: Connection, caller: Caller, session_id: str
) -> tuple[str, dict[str, Any] | None]:
    """The caller's station and the answer stored for this session id (None: a new one),
    in one round trip."""
    parts = auth.key_parts(caller.authorization)
    if parts is None:
        raise Unauthorized
    key_id, secret = parts
    row = conn.execute(_STATION_AND_FIRST, {"key_id": key_id, "sid": session_id}).first()
    if row is None or not auth.secret_matches(secret, row[1]):
        raise Unauthorized
    return str(row[0]), row[2]


def station_on(conn: Connection, caller: Caller) -> str:
    """The caller's station, read in the caller's transaction; Unauthorized for a bad key."""
    parts = auth.key_parts(caller.authorization)
    if parts is None:
        raise Unauthorized
    key_id, secret = parts
    row = conn.execute(STATION, {"key_id": key_id}).first()
    if row is None or not auth.secret_matches(secret, row[1]):
        raise Unauthorized
    return str(row[0])


class _Repeat(Exception):
    """This session id is stored already (leaves the transaction before answering)."""

    def __init__(self, station_id: str, response: dict[str, Any]) -> None:
        super().__init__()
        self.station_id = station_id
        self.response = response


class _Replayed(Exception):
    def __init__(self, stored: Stored) -> None:
        super().__init__()
        self.stored = stored


class InProgress(Exception):
    """The first report of this session is still being settled; the caller retries."""


def first_answer(
    db: Database, station_id: str, session_id: str, response: dict[str, Any]
) -> Stored:
    """The answer the first report got. While that report is still capturing its hold the
    answer is not written yet: wait for it a little, then ask the caller to retry."""
    deadline = time.monotonic() + FIRST_ANSWER_WAIT_S
    while not response:
        if time.monotonic() > deadline:
            raise InProgress(session_id)
        time.sleep(0.05)
        with db.read() as s:
            response = _stored_response(s, station_id, session_id) or {}
    return Stored(201, response, replayed=True)


def keyed_replay(conn: Connection, station_id: str, caller: Caller, endpoint: str) -> Stored | None:
    """The answer stored for the caller's Idempotency-Key, or None when the key is new."""
    if caller.key is None:
        return None
    stored = conn.execute(_KEYED, {"station_id": station_id, "key": caller.key}).first()
    if stored is None:
        return None
    if stored.endpoint != endpoint or stored.request_hash != caller.request_hash:
        raise KeyReused
    return Stored(stored.status_code, stored.body, replayed=True)


def key_row(
    station_id: str, caller: Caller, endpoint: str, answer: Stored, now: datetime
) -> dict[str, Any]:
    return {
        "station_id": station_id,
        "key": caller.key,
        "endpoint": endpoint,
        "request_hash": caller.request_hash,
        "status_code": answer.status_code,
        "body": answer.body,
        "created_at": now,
    }


def session_values(
    station_id: str,
    report: SessionReport,
    exact: dict[str, Any],
    computed: Computed,
    *,
    receipt_id: str,
    link_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "station_id": station_id,
        "session_id": report.session_id,
        "receipt_id": receipt_id,
        "connector_id": report.connector_id,
        "started_at": report.start_date_time,
        "ended_at": report.end_date_time,
        "meter_start_wh": report.meter_start_wh,
        "meter_end_wh": report.meter_end_wh,
        "currency": report.currency,
        "time_zone": report.time_zone,
        # The exact JSON (Decimal numbers) the station sent, not pydantic's floats.
        "tariff": computed.tariff_json,  # written once per snapshot, not per report
        "cdr": {**exact.get("cdr", {}), "charging_periods": exact.get("charging_periods")},
        "reported_minor": report.total_cost,
        "computed_minor": computed.total_minor,
        "computed": computed.breakdown,
        "payment_method": report.payment.method,
        "link_id": link_id,
        "created_at": now,
        "response": {},
    }


def first_body(
    report: SessionReport, computed: Computed, receipt_url: str, payment: dict[str, Any] | None
) -> dict[str, Any]:
    """The answer to a session's first report (a QR session adds its settlement later)."""
    body: dict[str, Any] = {
        "session_id": report.session_id,
        "status": "accepted",
        "computed_cost": computed.total_minor,
        "reported_cost": report.total_cost,
        "cost_mismatch": computed.total_minor != report.total_cost,
        "currency": report.currency,
        "receipt_url": receipt_url,
        "payment_status": "none",
    }
    if payment is not None:
        body.update(
            payment_status=payment["status"],
            hold=payment["authorized_minor"],
            captured=payment["captured_minor"],
            released=(payment["authorized_minor"] - (payment["captured_minor"] or 0))
            if payment["released"]
            else None,
        )
    return body


def card_values(station_id: str, report: SessionReport, now: datetime) -> dict[str, Any] | None:
    if not isinstance(report.payment, CardPayment):
        return None
    values = _card_payment_values(station_id, report.payment, now)
    values["currency"] = report.currency
    return values


def store_session(
    db: Database,
    settings: Settings,
    settler: Settler,
    caller: Caller,
    *,
    report: SessionReport,
    exact: dict[str, Any],
    computed: Computed,
    receipt_url: Callable[[str], str],
) -> Stored:
    """Store a completed session once and settle its QR-link hold. Repeats replay the answer.

    The station's key, the Idempotency-Key and the session id are checked in the same
    transaction that stores a card or unpaid session with its answer (inserts only); a
    QR-link session is stored first, then its hold is captured, then the answer is recorded.
    """
    now = settings.now()
    link_id: str | None = None
    station_id = ""
    try:
        # Table-level statements on a plain connection: the ORM's unit of work would cost
        # more CPU than the database's own work for these few rows.
        with db.engine.begin() as conn:
            station_id, first = _station_and_first(conn, caller, report.session_id)
            replay = keyed_replay(conn, station_id, caller, "sessions")
            if replay is not None:
                raise _Replayed(replay)
            if first is not None:
                raise _Repeat(station_id, first)
            if isinstance(report.payment, LinkPayment):
                lt = table_of(PaymentLink)
                link = conn.execute(
                    select(lt.c.id, lt.c.station_id, lt.c.currency).where(
                        lt.c.id == report.payment.link_id
                    )
                ).first()
                if link is None or link.station_id != station_id:
                    raise IngestError(
                        404, "payment.link_id", "no such payment link for this station"
                    )
                if link.currency != report.currency:
                    raise IngestError(422, "currency", f"the link was made out in {link.currency}")
                link_id = link.id
            receipt_id = new_receipt_id()
            row = session_values(
                station_id, report, exact, computed, receipt_id=receipt_id, link_id=link_id, now=now
            )
            pay = card_values(station_id, report, now)
            body = first_body(report, computed, receipt_url(receipt_id), pay)
            if link_id is None:
                row["response"] = body  # known before the insert: no UPDATE after it
            session_pk = conn.execute(INSERT_SESSION, row).scalar_one()
            store_ocmf_records(conn, station_id, session_pk, report, now)
            if pay is not None:
                conn.execute(INSERT_PAYMENT, {**pay, "session_pk": session_pk})
            elif link_id is not None:
                # The first session to name a hold owns it, unless it is being released.
                conn.execute(
                    update(_PAYMENTS)
                    .where(
                        _PAYMENTS.c.link_id == link_id,
                        _PAYMENTS.c.method == "link",
                        _PAYMENTS.c.status == "authorized",
                        _PAYMENTS.c.session_pk.is_(None),
                    )
                    .values(session_pk=session_pk)
                )
            if link_id is None and caller.key is not None:
                answer = Stored(201, body, replayed=False)
                conn.execute(INSERT_KEY, key_row(station_id, caller, "sessions", answer, now))
    except _Replayed as replayed:
        return replayed.stored
    except _Repeat as repeat:
        # Answered outside the transaction: waiting inside it would hold the lock the first
        # report needs to write its answer.
        return first_answer(db, repeat.station_id, report.session_id, repeat.response)
    except IntegrityError:
        # A concurrent repeat of the same session id won the insert: answer as it did.
        return first_answer(db, station_id, report.session_id, {})

    if link_id is not None:
        body.update(settler.settle_session(session_pk))
        with db.session() as s:
            s.execute(
                update(ChargingSession)
                .where(ChargingSession.pk == session_pk)
                .values(response=body)
            )
        if caller.key is not None:
            answer = Stored(201, body, replayed=False)
            with contextlib.suppress(IntegrityError), db.session() as s:  # first stored wins
                s.execute(
                    insert(IdempotentResponse), key_row(station_id, caller, "sessions", answer, now)
                )
    if computed.total_minor != report.total_cost:
        log.warning(
            "session %s/%s: reported cost %d differs from computed %d",
            station_id,
            report.session_id,
            report.total_cost,
            computed.total_minor,
        )
    return Stored(201, body, replayed=False)


def store_payment(
    db: Database, settings: Settings, station_id: str, report: PaymentReport
) -> dict[str, Any]:
    with db.session() as s:
        row = _card_payment_row(station_id, report.payment, report.occurred_at)
        row.currency = report.currency
        if report.session_id is not None:
            session = _existing(s, station_id, report.session_id)
            if session is None:
                raise IngestError(404, "session_id", "no such session for this station")
            row.session_pk = session.pk
        s.add(row)
        s.flush()
        return {"payment_id": row.id, "status": row.status}


def store_totals(
    db: Database, settings: Settings, station_id: str, report: TerminalTotalsReport
) -> dict[str, Any]:
    with db.session() as s:
        row = TerminalTotals(
            station_id=station_id,
            terminal_id=report.terminal_id,
            closed_at=report.closed_at,
            currency=report.currency,
            total_minor=report.total,
            count=report.count,
            receipt_from=report.receipt_from,
            receipt_to=report.receipt_to,
            trace_no=report.trace_no,
            brands={"brands": [b.model_dump() for b in report.brands]},
            created_at=settings.now(),
        )
        s.add(row)
        s.flush()
        return {"totals_id": row.id, "status": "accepted"}
