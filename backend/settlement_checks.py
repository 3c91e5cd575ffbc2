"""Reconciliation against what payment providers settled and paid out: each station-day gains
settled, fees and paid-out totals (per provider), and findings of seven more classes.

A provider line counts on the day of the session its payment belongs to, so one row reads
sessions -> computed -> captured -> refunded -> settled -> paid out. Lines tied to no payment,
and payouts, count on the day they were booked under the station "-".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.db import Database
from backend.models import ChargingSession, Payment, Payout, Refund, SettlementRecord
from backend.reconcile import Discrepancy
from backend.settlement_import import agreed_fee_minor, format_names, load_format

if TYPE_CHECKING:
    from backend.books import BookDay

SETTLEMENT_CLASSES: dict[str, str] = {
    "captured_not_settled": "captured but never settled",
    "settled_not_captured": "settled but never captured",
    "settled_amount_differs": "settled amount differs from the capture",
    "fee_differs": "fee differs from the agreed fee",
    "payout_total_mismatch": "payout total differs from its transactions",
    "dispute": "chargeback or dispute",
    "refund_without_session": "refund without a session",
}
NO_STATION = "-"
CARD = "card"


def _provider_key(provider: str) -> str:
    """Captures name their gateway (stripe, sandbox) or 'card'; acquirers' files settle cards."""
    return provider if provider in ("stripe", "sandbox") else CARD


def _formats() -> dict[str, dict[str, Any]]:
    out = {"stripe": load_format("stripe")}
    for name in format_names():
        fmt = load_format(name)
        out[fmt["provider"]] = fmt
    return out


def _rec_ref(r: SettlementRecord) -> dict[str, Any]:
    return {
        "type": "settlement",
        "ref": f"{r.provider}:{r.external_id}",
        "kind": r.kind,
        "gross": r.gross_minor,
        "fee": r.fee_minor,
        "payout": r.payout_ref,
    }


def _pay_ref(p: Payment, session: ChargingSession | None) -> dict[str, Any]:
    ref: dict[str, Any] = {"type": "payment", "payment_id": p.id, "captured": p.captured_minor}
    if session is not None:
        ref.update(session_pk=session.pk, session_id=session.session_id)
    return ref


def add_settlement(
    db: Database,
    settings: Settings,
    *,
    start: datetime,
    end: datetime,
    station: str | None,
    day_of: Callable[[tuple[str, date, str]], BookDay],
) -> None:
    formats = _formats()
    with db.read() as s:
        _matched(s, formats, start, end, station=station, day_of=day_of)
        if station in (None, NO_STATION):
            _unmatched(s, start, end, day_of)
            _payouts(s, start, end, day_of)
        _never_settled(s, (start, end), station, day_of, settings.settle_within)
        _captured_by_provider(s, start, end, station, day_of)


def _in_window(start: datetime, end: datetime, station: str | None) -> Any:
    C = ChargingSession
    cond = [C.ended_at >= start, C.ended_at < end]
    if station is not None:
        cond.append(C.station_id == station)
    return cond


def _matched(
    s: Session,
    formats: dict[str, dict[str, Any]],
    start: datetime,
    end: datetime,
    *,
    station: str | None,
    day_of: Callable[[tuple[str, date, str]], BookDay],
) -> None:
    R, C = SettlementRecord, ChargingSession
    rows = s.execute(
        select(R, Payment, C)
        .join(Payment, Payment.id == R.payment_id)
        .join(C, C.pk == Payment.session_pk)
        .where(*_in_window(start, end, station))
        .order_by(R.id)
    ).all()
    paid_out = _paid_out_refs(s, {r.payout_ref for r, _p, _c in rows if r.payout_ref})
    for rec, pay, sess in rows:
        book = day_of((sess.station_id, sess.ended_at.date(), sess.currency))
        _count(book, rec, paid_out)
        add = book.row.discrepancies.append
        refs = [_pay_ref(pay, sess), _rec_ref(rec)]
        if rec.kind == "charge":
            captured = pay.captured_minor or 0
            if captured == 0:
                add(
                    Discrepancy(
                        "settled_not_captured", f"{rec.gross_minor} settled, 0 captured", refs
                    )
                )
            elif rec.gross_minor != captured:
                add(
                    Discrepancy(
                        "settled_amount_differs",
                        f"{rec.provider} settled {rec.gross_minor}, captured {captured}",
                        refs,
                    )
                )
            agreed = agreed_fee_minor(formats.get(rec.provider, {}), rec.gross_minor, rec.currency)
            if agreed is not None and rec.fee_minor != agreed:
                refs[1]["agreed"] = agreed
                add(
                    Discrepancy(
                        "fee_differs", f"{rec.provider} fee {rec.fee_minor}, agreed {agreed}", refs
                    )
                )
        elif rec.kind == "dispute":
            add(Discrepancy("dispute", f"{rec.provider} booked {rec.gross_minor} (dispute)", refs))
        elif rec.kind == "refund" and not _our_refund(s, rec, pay):
            add(
                Discrepancy(
                    "refund_without_session",
                    f"{rec.provider} refunded {-rec.gross_minor}; no refund of ours",
                    refs,
                )
            )


def _our_refund(s: Session, rec: SettlementRecord, pay: Payment) -> bool:
    """Whether one of our refunds is the provider's refund line."""
    return bool(
        s.scalar(
            select(func.count())
            .select_from(Refund)
            .where(
                Refund.payment_id == pay.id,
                Refund.status.in_(("succeeded", "instructed", "pending")),
                or_(Refund.gateway_ref == rec.external_id, Refund.amount_minor == -rec.gross_minor),
            )
        )
    )


def _paid_out_refs(s: Session, refs: set[str]) -> set[str]:
    if not refs:
        return set()
    return set(s.scalars(select(Payout.external_id).where(Payout.external_id.in_(sorted(refs)))))


def _count(book: BookDay, rec: SettlementRecord, paid_out: set[str]) -> None:
    key = _provider_key(rec.provider)
    p = book.providers.setdefault(key, _empty())
    book.settled_minor += rec.gross_minor
    book.fees_minor += rec.fee_minor
    p["settled"] += rec.gross_minor
    p["fees"] += rec.fee_minor
    if rec.payout_ref in paid_out:
        book.paid_out_minor += rec.net_minor
        p["paid_out"] += rec.net_minor


def _empty() -> dict[str, int]:
    return {"captured": 0, "refunded": 0, "settled": 0, "fees": 0, "paid_out": 0}


def _unmatched(
    s: Session, start: datetime, end: datetime, day_of: Callable[[tuple[str, date, str]], BookDay]
) -> None:
    R = SettlementRecord
    rows = s.scalars(
        select(R)
        .where(R.payment_id.is_(None), R.booked_at >= start, R.booked_at < end)
        .order_by(R.id)
    ).all()
    paid_out = _paid_out_refs(s, {r.payout_ref for r in rows if r.payout_ref})
    for rec in rows:
        book = day_of((NO_STATION, rec.booked_at.date(), rec.currency))
        _count(book, rec, paid_out)
        ref = [_rec_ref(rec)]
        cls = {
            "charge": (
                "settled_not_captured",
                f"{rec.provider} settled {rec.gross_minor}, no capture of ours",
            ),
            "refund": (
                "refund_without_session",
                f"{rec.provider} refunded {-rec.gross_minor}, no session",
            ),
            "dispute": (
                "dispute",
                f"{rec.provider} booked {rec.gross_minor} (dispute), no session",
            ),
        }.get(rec.kind)
        if cls is not None:
            book.row.discrepancies.append(Discrepancy(cls[0], cls[1], ref))


def _payouts(
    s: Session, start: datetime, end: datetime, day_of: Callable[[tuple[str, date, str]], BookDay]
) -> None:
    R = SettlementRecord
    for po in s.scalars(
        select(Payout).where(Payout.paid_at >= start, Payout.paid_at < end).order_by(Payout.id)
    ):
        total = s.scalar(
            select(func.coalesce(func.sum(R.net_minor), 0)).where(
                R.provider == po.provider, R.payout_ref == po.external_id
            )
        )
        if int(total or 0) != po.amount_minor:
            book = day_of((NO_STATION, po.paid_at.date(), po.currency))
            book.row.discrepancies.append(
                Discrepancy(
                    "payout_total_mismatch",
                    f"{po.provider} payout {po.external_id} of {po.amount_minor}, "
                    f"its transactions add up to {int(total or 0)}",
                    [
                        {
                            "type": "payout",
                            "ref": f"{po.provider}:{po.external_id}",
                            "amount": po.amount_minor,
                            "lines": int(total or 0),
                        }
                    ],
                )
            )


def _never_settled(
    s: Session,
    window: tuple[datetime, datetime],
    station: str | None,
    day_of: Callable[[tuple[str, date, str]], BookDay],
    settle_within: timedelta,
) -> None:
    start, end = window
    R, C = SettlementRecord, ChargingSession
    newest: dict[str, datetime] = defaultdict(lambda: datetime.min.replace(tzinfo=start.tzinfo))
    for provider, booked in s.execute(
        select(R.provider, func.max(R.booked_at)).group_by(R.provider)
    ):
        key = _provider_key(provider)
        newest[key] = max(newest[key], booked)
    if not newest:
        return
    settled = select(R.id).where(R.payment_id == Payment.id, R.kind == "charge").exists()
    rows = s.execute(
        select(Payment, C)
        .join(C, C.pk == Payment.session_pk)
        .where(*_in_window(start, end, station), Payment.captured_minor > 0, ~settled)
        .order_by(Payment.id)
    ).all()
    for pay, sess in rows:
        key = CARD if pay.method == "card" else (pay.gateway or "")
        when = pay.captured_at or pay.created_at
        if key in newest and newest[key] >= when + settle_within:
            day_of((sess.station_id, sess.ended_at.date(), sess.currency)).row.discrepancies.append(
                Discrepancy(
                    "captured_not_settled",
                    f"{pay.captured_minor} captured, not in any {key} settlement",
                    [_pay_ref(pay, sess)],
                )
            )


def _captured_by_provider(
    s: Session,
    start: datetime,
    end: datetime,
    station: str | None,
    day_of: Callable[[tuple[str, date, str]], BookDay],
) -> None:
    C = ChargingSession
    provider = func.coalesce(Payment.gateway, CARD)
    rows = s.execute(
        select(C.station_id, C.ended_at, C.currency, provider, Payment.captured_minor, Payment.id)
        .join(C, C.pk == Payment.session_pk)
        .where(*_in_window(start, end, station), Payment.captured_minor > 0)
    ).all()
    refunded: dict[int, int] = defaultdict(int)
    ids = [r[5] for r in rows]
    for lo in range(0, len(ids), 500):
        for pid, amount in s.execute(
            select(Refund.payment_id, func.sum(Refund.amount_minor))
            .where(
                Refund.payment_id.in_(ids[lo : lo + 500]),
                Refund.status.in_(("succeeded", "instructed", "pending")),
            )
            .group_by(Refund.payment_id)
        ):
            refunded[pid] += int(amount or 0)
    for st, ended, cur, prov, captured, pid in rows:
        book = day_of((st, ended.date(), cur))
        p = book.providers.setdefault(_provider_key(prov), _empty())
        p["captured"] += captured or 0
        p["refunded"] += refunded.get(pid, 0)
