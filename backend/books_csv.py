"""The books as CSV for a spreadsheet: amounts as decimal money ("6.25"), never minor units."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from backend.books import Books
from kiosk.money import Money

COLUMNS = (
    "station_id",
    "day",
    "currency",
    "sessions",
    "energy_kwh",
    "computed",
    "captured",
    "refunded",
    "settled",
    "fees",
    "paid_out",
    "terminal_total",
    "status",
    "class",
    "message",
    "resolution",
    "records",
)


def _amount(minor: int | None, currency: str) -> str:
    return "" if minor is None else str(Money.from_minor(minor, currency).amount)


def _record_id(ref: dict[str, object]) -> str:
    for name in ("session_id", "payment_id", "totals_id", "ref"):
        if ref.get(name):
            return str(ref[name])
    return ""


def books_csv(result: Books, lang: str = "en") -> str:
    """One line per finding; a day without findings has one line with status 'clean'."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for b in result.days:
        r, cur = b.row, b.row.currency
        base = [
            r.station_id,
            r.day.isoformat(),
            cur,
            r.sessions,
            f"{Decimal(r.energy_wh) / 1000:.3f}",
            *(
                _amount(x, cur)
                for x in (
                    r.computed_minor,
                    r.captured_minor,
                    b.refunded_minor,
                    b.settled_minor,
                    b.fees_minor,
                    b.paid_out_minor,
                    r.terminal_total_minor,
                )
            ),
        ]
        if not b.findings:
            writer.writerow([*base, "clean", "", "", "", ""])
        for f in b.findings:
            ids = ";".join(_record_id(x) for x in f.records)
            resolution = " | ".join(
                f"{n.actor} {n.created_at:%Y-%m-%d %H:%M}: {n.note}" for n in f.notes
            )
            status = "resolved" if f.resolved else "open"
            writer.writerow([*base, status, f.cls, f.text(lang), resolution, ids])
    return out.getvalue()
