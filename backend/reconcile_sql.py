"""The SQL side of reconciliation: per station-day sums computed by the database, and the
test that picks out the (session, payment) rows that may hold a discrepancy.

The database aggregates a million sessions in about the time it takes to read them; Python
then looks only at the rows the suspect test selects (a superset of what the checks in
backend.reconcile flag), so a clean day costs one row of output, not one row per session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, case, cast, func, or_, select, text
from sqlalchemy.orm import Session

from backend.models import CARD_RECEIPTS, ChargingSession, Payment, Refund, TerminalTotals

C = ChargingSession


@dataclass(frozen=True)
class DaySums:
    station_id: str
    day: date
    currency: str
    sessions: int
    energy_wh: int
    computed_minor: int


def utc_day(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC calendar day of a UtcDateTime column, computed by the database."""
    if dialect == "postgresql":
        # timestamptz → timestamp at UTC, whatever the connection's TimeZone, then its date.
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite keeps naive UTC text: 'YYYY-MM-DD HH:MM:SS…'


def as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def energy() -> ColumnElement[int]:
    return C.meter_end_wh - C.meter_start_wh


def suspect() -> ColumnElement[bool]:
    """A (session, payment) row of the left join that a session check may flag (see
    reconcile._check_session), or a QR session without a payment of its own (a hold named
    twice)."""
    captured = func.coalesce(Payment.captured_minor, 0)
    return or_(
        C.reported_minor != C.computed_minor,
        and_(Payment.id.is_(None), or_(C.computed_minor > 0, C.link_id.is_not(None))),
        Payment.status == "authorized",
        C.computed_minor > Payment.authorized_minor,
        and_(Payment.id.is_not(None), captured != C.computed_minor),
        and_(energy() == 0, captured > 0),
    )


def _scoped(stmt: Any, column: Any, station: str | None) -> Any:
    return stmt if station is None else stmt.where(column == station)


def session_sums(s: Session, start: datetime, end: datetime, station: str | None) -> list[DaySums]:
    """Sessions, energy and computed cost per station-day (the sessions table alone)."""
    day = utc_day(C.ended_at, s.get_bind().dialect.name).label("day")
    stmt = _scoped(
        select(
            C.station_id,
            day,
            C.currency,
            func.count(),
            func.sum(energy()),
            func.sum(C.computed_minor),
        )
        .where(C.ended_at >= start, C.ended_at < end)
        .group_by(C.station_id, day, C.currency),
        C.station_id,
        station,
    )
    return [
        DaySums(st, as_date(d), cur, int(n), int(wh or 0), int(comp or 0))
        for st, d, cur, n, wh, comp in s.execute(stmt)
    ]


def captures_and_suspects(
    s: Session, start: datetime, end: datetime, station: str | None
) -> tuple[dict[tuple[str, date, str], int], list[int]]:
    """Captured minor units per station-day (an open hold counts nothing) and the pks of
    the sessions a check may flag, in one pass over sessions ⟕ payments.

    Grouping by "the session's pk if the row is suspect, else nothing" gives one group per
    station-day for the clean rows and one per suspect session, with plain sums only, so
    PostgreSQL aggregates in parallel and in memory."""
    dialect = s.get_bind().dialect.name
    day = utc_day(C.ended_at, dialect).label("day")
    flagged = case((suspect(), C.pk)).label("flagged")
    captured = case(
        (Payment.status != "authorized", func.coalesce(Payment.captured_minor, 0)), else_=0
    )
    stmt = _scoped(
        select(C.station_id, day, C.currency, flagged, func.sum(captured))
        .select_from(C)
        .outerjoin(Payment, Payment.session_pk == C.pk)
        .where(C.ended_at >= start, C.ended_at < end)
        .group_by(C.station_id, day, C.currency, flagged),
        C.station_id,
        station,
    )
    sums: dict[tuple[str, date, str], int] = {}
    pks: set[int] = set()
    for st, d, cur, pk, capt in s.execute(stmt):
        key = (st, as_date(d), cur)
        sums[key] = sums.get(key, 0) + int(capt or 0)
        if pk is not None:
            pks.add(int(pk))
    return sums, sorted(pks)


def repeated_receipts(
    s: Session, since: datetime, station: str | None
) -> list[tuple[str, str | None, int]]:
    """(station, terminal, receipt) of card receipts stored more than once since `since`
    (the payments table alone; the caller keeps those whose sessions lie in the range)."""
    P = Payment
    stmt = _scoped(
        select(P.station_id, P.terminal_id, P.receipt_no)
        # The index's own condition, spelled as the index spells it, so both databases
        # read the index alone.
        .where(text(CARD_RECEIPTS), P.created_at >= since)
        .group_by(P.station_id, P.terminal_id, P.receipt_no)
        .having(func.count() > 1),
        P.station_id,
        station,
    )
    return [(st, tid, int(receipt)) for st, tid, receipt in s.execute(stmt)]


def previous_close(s: Session, batch: TerminalTotals) -> datetime | None:
    """When the same terminal closed its batch before this one (None: this is its first)."""
    T = TerminalTotals
    return s.scalar(
        select(func.max(T.closed_at)).where(
            T.station_id == batch.station_id,
            T.terminal_id == batch.terminal_id,
            T.closed_at < batch.closed_at,
        )
    )


def terminal_refunds(s: Session, batch: TerminalTotals) -> int:
    """Card refunds (06 31) a terminal made in one end-of-day batch: those of its station and
    terminal with a receipt number in the batch's range, or without a range, those made since
    the terminal's previous batch. Their gateway_ref is "<terminal id>/<receipt no>"."""
    stmt = select(Refund.gateway_ref, Refund.amount_minor).where(
        Refund.station_id == batch.station_id,
        Refund.provider == "terminal",
        Refund.status == "succeeded",
        Refund.gateway_ref.like(f"{batch.terminal_id}/%"),
    )
    low, high = batch.receipt_from, batch.receipt_to
    if low is None or high is None:
        previous = previous_close(s, batch)
        stmt = stmt.where(Refund.created_at <= batch.closed_at)
        if previous is not None:
            stmt = stmt.where(Refund.created_at > previous)
    total = 0
    for ref, amount in s.execute(stmt):
        receipt = str(ref).rsplit("/", 1)[-1]
        in_range = (
            low is None or high is None or (receipt.isdigit() and low <= int(receipt) <= high)
        )
        total += int(amount) if in_range else 0
    return total
