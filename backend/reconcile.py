"""Reconciliation: per station and day, sessions ↔ recomputed cost ↔ captures ↔ terminal
end-of-day totals, with every discrepancy named by class and the records involved.

Days are UTC calendar days: a session counts on the day it ended, a payment on the day it was
made, a terminal batch on the day it was closed.

The database sums each station-day and names the sessions that may hold a discrepancy
(backend.reconcile_sql); only those are read row by row and checked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from backend import reconcile_sql
from backend.config import Settings
from backend.db import Database
from backend.models import ChargingSession, Payment, TerminalTotals
from backend.ocmf import discrepancies as ocmf_discrepancies

# research/payments.md §7.3, in the order a person works through them.
CLASSES: dict[str, str] = {
    "uncaptured_hold": "hold never captured or released",
    "captured_ne_computed": "captured amount differs from the computed cost",
    "computed_gt_hold": "computed cost exceeds the hold",
    "duplicate": "one payment counted for more than one record",
    "payment_without_session": "money taken with no session",
    "session_without_payment": "session with a cost and no payment",
    "zero_energy_with_charge": "no energy delivered but money captured",
    "batch_total_mismatch": "terminal end-of-day total differs from the captures",
    "reported_ne_computed": "the station's cost differs from the recomputed cost",
    # Eichrecht (research/meters.md §7): signed meter records
    "ocmf_missing": "a session on a signing meter has no signed record",
    "ocmf_invalid": "a signed record does not verify or cannot be billed from",
    "ocmf_gap": "a meter's signed records are not numbered without gaps",
    "ocmf_energy_mismatch": "booked energy differs from the signed energy",
}


@dataclass
class Discrepancy:
    cls: str
    message: str
    records: list[dict[str, Any]]


@dataclass
class DayRow:
    station_id: str
    day: date
    currency: str
    sessions: int = 0
    energy_wh: int = 0
    computed_minor: int = 0
    captured_minor: int = 0
    terminal_total_minor: int | None = None
    discrepancies: list[Discrepancy] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.discrepancies


@dataclass
class Report:
    date_from: date
    date_to: date
    generated_at: datetime
    rows: list[DayRow]

    @property
    def discrepancy_count(self) -> int:
        return sum(len(r.discrepancies) for r in self.rows)

    def classes_found(self) -> list[str]:
        return sorted({d.cls for r in self.rows for d in r.discrepancies})


def _bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    start = datetime.combine(date_from, time(0), UTC)
    return start, datetime.combine(date_to + timedelta(days=1), time(0), UTC)


def _session_ref(
    pk: int, *, station: str, session_id: str, computed: int, reported: int, energy: int
) -> dict[str, Any]:
    return {
        "type": "session",
        "session_pk": pk,
        "session_id": session_id,
        "station_id": station,
        "computed": computed,
        "reported": reported,
        "energy_wh": energy,
    }


def _payment_ref(p: Any) -> dict[str, Any]:
    """A Payment or a row with the same column names."""
    ref: dict[str, Any] = {
        "type": "payment",
        "payment_id": p.id,
        "method": p.method,
        "status": p.status,
        "authorized": p.authorized_minor,
        "captured": p.captured_minor,
    }
    if p.method == "link":
        ref["link_id"] = p.link_id
        ref["gateway_ref"] = p.gateway_ref
    else:
        ref.update(terminal_id=p.terminal_id, receipt_no=p.receipt_no, trace_no=p.trace_no)
    return ref


class _Rows:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, date, str], DayRow] = {}

    def get(self, station: str, when: datetime, currency: str) -> DayRow:
        return self.get_day(station, when.astimezone(UTC).date(), currency)

    def get_day(self, station: str, day: date, currency: str) -> DayRow:
        key = (station, day, currency)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = DayRow(station, key[1], currency)
        return row


_Stmt = TypeVar("_Stmt", bound=Select[*tuple[Any, ...]])


def _scoped(stmt: _Stmt, column: Any, station: str | None) -> _Stmt:
    return stmt if station is None else stmt.where(column == station)


def _check_session(
    row: DayRow,
    ref: dict[str, Any],
    payments: list[Any],
    *,
    computed: int,
    reported: int,
    energy: int,
    method: str,
    hold_elsewhere: bool,
) -> None:
    """hold_elsewhere: the session names a hold another session owns (reported as duplicate)."""
    add = row.discrepancies.append
    # Money taken for a session without energy is one finding (zero_energy_with_charge), not
    # also "captured/reported differs from computed" (no energy, no charge: computed is 0).
    charged_for_nothing = energy == 0 and any((p.captured_minor or 0) > 0 for p in payments)
    if reported != computed and not charged_for_nothing:
        add(
            Discrepancy(
                "reported_ne_computed", f"station reported {reported}, engine {computed}", [ref]
            )
        )
    if not payments:
        # "csms": the operator's CSMS took the money through its PSP (OCPP C25), not ours.
        if computed > 0 and not hold_elsewhere and method != "csms":
            add(
                Discrepancy(
                    "session_without_payment", f"cost {computed} and no payment ({method})", [ref]
                )
            )
        return
    for p in payments:
        pref = _payment_ref(p)
        if p.status == "authorized":
            add(
                Discrepancy(
                    "uncaptured_hold",
                    f"session reported, hold of {p.authorized_minor} still open",
                    [ref, pref],
                )
            )
            continue
        captured = p.captured_minor or 0
        if energy == 0 and captured > 0:
            add(
                Discrepancy(
                    "zero_energy_with_charge", f"0 Wh delivered, {captured} captured", [ref, pref]
                )
            )
        elif computed > p.authorized_minor:
            add(
                Discrepancy(
                    "computed_gt_hold",
                    f"cost {computed} above hold {p.authorized_minor}",
                    [ref, pref],
                )
            )
        elif captured != computed:
            add(
                Discrepancy(
                    "captured_ne_computed", f"captured {captured}, computed {computed}", [ref, pref]
                )
            )


def reconcile(
    db: Database, settings: Settings, date_from: date, date_to: date, station: str | None = None
) -> Report:
    start, end = _bounds(date_from, date_to)
    now = settings.now()
    rows = _Rows()
    with db.read() as s:
        named_links = _sessions(s, rows, (start, end), station)
        _orphan_payments(s, rows, (start, end), station, now=now, settings=settings)
        _duplicates(s, rows, start, end, station, named_links=named_links)
        _batches(s, rows, start, end, station)
        for cls, when, station_id, currency, message, ref in ocmf_discrepancies(
            s, start, end, station
        ):
            rows.get(station_id, when, currency).discrepancies.append(
                Discrepancy(cls, message, [ref])
            )
    ordered = sorted(rows.rows.values(), key=lambda r: (r.station_id, r.day, r.currency))
    return Report(date_from, date_to, now, ordered)


# The payment columns reconciliation reads, labelled like Payment's attributes so a row can
# stand in for a Payment.
_PAYMENT_COLUMNS = (
    Payment.id,
    Payment.method,
    Payment.status,
    Payment.authorized_minor,
    Payment.captured_minor,
    Payment.link_id,
    Payment.gateway_ref,
    Payment.terminal_id,
    Payment.receipt_no,
    Payment.trace_no,
)
_DETAIL_CHUNK = 1000


def _sessions(
    s: Session, rows: _Rows, window: tuple[datetime, datetime], station: str | None
) -> set[tuple[str, str]]:
    """Sums per station-day from the database, then the checks on the suspect sessions.
    Returns (station, link id) of QR sessions without a payment of their own."""
    start, end = window
    for d in reconcile_sql.session_sums(s, start, end, station):
        row = rows.get_day(d.station_id, d.day, d.currency)
        row.sessions += d.sessions
        row.energy_wh += d.energy_wh
        row.computed_minor += d.computed_minor
    captured, suspects = reconcile_sql.captures_and_suspects(s, start, end, station)
    for (st, day, currency), amount in captured.items():
        rows.get_day(st, day, currency).captured_minor += amount
    C = ChargingSession
    details: list[tuple[Any, list[Any]]] = []
    for lo in range(0, len(suspects), _DETAIL_CHUNK):
        stmt = (
            select(
                C.pk,
                C.station_id,
                C.session_id,
                C.ended_at,
                C.currency,
                C.computed_minor,
                C.reported_minor,
                (C.meter_end_wh - C.meter_start_wh).label("energy"),
                C.payment_method,
                C.link_id.label("session_link_id"),
                *_PAYMENT_COLUMNS,
            )
            .outerjoin(Payment, Payment.session_pk == C.pk)
            .where(C.pk.in_(suspects[lo : lo + _DETAIL_CHUNK]))
            .order_by(C.pk, Payment.id)
        )
        for r in s.execute(stmt):
            if not details or details[-1][0].pk != r.pk:
                details.append((r, []))
            if r.id is not None:
                details[-1][1].append(r)
    named = {
        (r.station_id, r.session_link_id) for r, pays in details if r.session_link_id and not pays
    }
    # Links whose hold belongs to some session: a second session naming one is a duplicate,
    # not a session without payment.
    owned_links: set[str | None] = set()
    link_ids = sorted({link for _st, link in named})
    for lo in range(0, len(link_ids), _DETAIL_CHUNK):
        owned_links.update(
            s.scalars(
                select(Payment.link_id).where(
                    Payment.method == "link",
                    Payment.session_pk.is_not(None),
                    Payment.link_id.in_(link_ids[lo : lo + _DETAIL_CHUNK]),
                )
            )
        )
    for r, payments in details:
        _one_session(rows, r, payments, owned_links)
    return named


def _one_session(rows: _Rows, r: Any, payments: list[Any], owned_links: set[str | None]) -> None:
    row = rows.get(r.station_id, r.ended_at, r.currency)
    ref = _session_ref(
        r.pk,
        station=r.station_id,
        session_id=r.session_id,
        computed=r.computed_minor,
        reported=r.reported_minor,
        energy=r.energy,
    )
    link_id = r.session_link_id
    hold_elsewhere = not payments and link_id is not None and link_id in owned_links
    _check_session(
        row,
        ref,
        payments,
        computed=r.computed_minor,
        reported=r.reported_minor,
        energy=r.energy,
        method=r.payment_method,
        hold_elsewhere=hold_elsewhere,
    )


def _orphan_payments(
    s: Session,
    rows: _Rows,
    window: tuple[datetime, datetime],
    station: str | None,
    *,
    now: datetime,
    settings: Settings,
) -> None:
    start, end = window
    stmt = _scoped(
        select(Payment).where(
            Payment.session_pk.is_(None), Payment.created_at >= start, Payment.created_at < end
        ),
        Payment.station_id,
        station,
    )
    for p in s.scalars(stmt):
        row = rows.get(p.station_id, p.created_at, p.currency)
        pref = _payment_ref(p)
        if p.status in ("authorized", "releasing"):
            if now - p.created_at >= settings.hold_ttl:
                row.discrepancies.append(
                    Discrepancy(
                        "uncaptured_hold",
                        f"hold of {p.authorized_minor} open past {settings.hold_ttl}",
                        [pref],
                    )
                )
        elif (p.captured_minor or 0) > 0:
            row.captured_minor += p.captured_minor or 0
            row.discrepancies.append(
                Discrepancy(
                    "payment_without_session", f"{p.captured_minor} captured, no session", [pref]
                )
            )


def _duplicates(
    s: Session,
    rows: _Rows,
    start: datetime,
    end: datetime,
    station: str | None,
    *,
    named_links: set[tuple[str, str]],
) -> None:
    C = ChargingSession
    # One QR hold named by several sessions: all but one of them have no payment of their
    # own, so the suspect sessions name every such link.
    for st, link_id in sorted(named_links):
        sessions = s.scalars(
            select(C).where(C.station_id == st, C.link_id == link_id).order_by(C.pk)
        ).all()
        if sum(1 for x in sessions if start <= x.ended_at < end) < 2:
            continue
        first = sessions[0]
        rows.get(st, first.ended_at, first.currency).discrepancies.append(
            Discrepancy(
                "duplicate",
                f"payment link {link_id} named by {len(sessions)} sessions",
                [
                    _session_ref(
                        x.pk,
                        station=x.station_id,
                        session_id=x.session_id,
                        computed=x.computed_minor,
                        reported=x.reported_minor,
                        energy=x.meter_end_wh - x.meter_start_wh,
                    )
                    for x in sessions
                ],
            )
        )
    # One terminal receipt reported more than once (e.g. under two session ids). A card
    # payment belongs to its session's day, not to the day its report arrived; terminal
    # receipt numbers wrap, so only payments of the reconciled range are compared. A report
    # arrives after its session ended (a day's slack for a station clock running ahead).
    day_of = func.coalesce(C.ended_at, Payment.created_at)
    in_range = (
        Payment.method == "card",
        Payment.receipt_no.is_not(None),
        day_of >= start,
        day_of < end,
    )
    since = start - timedelta(days=1)
    for st, tid, receipt in reconcile_sql.repeated_receipts(s, since, station):
        found = s.execute(
            select(Payment, day_of.label("day_of"))
            .outerjoin(C, C.pk == Payment.session_pk)
            .where(
                *in_range,
                Payment.station_id == st,
                Payment.terminal_id == tid,
                Payment.receipt_no == receipt,
            )
            .order_by(Payment.id)
        ).all()
        if len(found) < 2:
            continue
        first_day = min(r.day_of for r in found)
        pays = [r.Payment for r in found]
        rows.get(st, first_day, pays[0].currency).discrepancies.append(
            Discrepancy(
                "duplicate",
                f"terminal {tid} receipt {receipt} reported {len(pays)} times",
                [_payment_ref(p) for p in pays],
            )
        )


def _batches(s: Session, rows: _Rows, start: datetime, end: datetime, station: str | None) -> None:
    T = TerminalTotals
    stmt = _scoped(
        select(T).where(T.closed_at >= start, T.closed_at < end).order_by(T.closed_at),
        T.station_id,
        station,
    )
    for batch in s.scalars(stmt).all():
        row = rows.get(batch.station_id, batch.closed_at, batch.currency)
        row.terminal_total_minor = (row.terminal_total_minor or 0) + batch.total_minor
        card = select(Payment).where(
            Payment.station_id == batch.station_id,
            Payment.terminal_id == batch.terminal_id,
            Payment.method == "card",
            Payment.captured_minor > 0,
        )
        if batch.receipt_from is not None and batch.receipt_to is not None:
            card = card.where(Payment.receipt_no.between(batch.receipt_from, batch.receipt_to))
        else:
            previous = reconcile_sql.previous_close(s, batch)
            card = card.where(Payment.created_at <= batch.closed_at)
            if previous is not None:
                card = card.where(Payment.created_at > previous)
        pays = s.scalars(card.order_by(Payment.id)).all()
        # A receipt reported twice was booked once: it counts once (the repeat is reported
        # as a duplicate).
        once = {p.receipt_no if p.receipt_no is not None else -p.id: p for p in reversed(pays)}
        captured = sum(p.captured_minor or 0 for p in once.values())
        # The terminal's total is net of the card refunds (06 31) it made in the batch.
        refunded = reconcile_sql.terminal_refunds(s, batch)
        if captured - refunded != batch.total_minor:
            less = f" less refunds of {refunded}" if refunded else ""
            row.discrepancies.append(
                Discrepancy(
                    "batch_total_mismatch",
                    f"terminal {batch.terminal_id} closed with {batch.total_minor}, "
                    f"captures add up to {captured}{less}",
                    [
                        {
                            "type": "terminal_totals",
                            "totals_id": batch.id,
                            "terminal_id": batch.terminal_id,
                            "total": batch.total_minor,
                            "receipt_from": batch.receipt_from,
                            "receipt_to": batch.receipt_to,
                        },
                        *[_payment_ref(p) for p in pays],
                    ],
                )
            )
