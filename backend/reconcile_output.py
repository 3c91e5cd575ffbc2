"""Reconciliation reports as JSON (machines), CSV (spreadsheets) and HTML (people).

They print the operator's books (backend.books), the same findings the operator pages show:
reconciliation's classes and settlement's, each with its English message, its text in the
operator's language (en, de) and the notes that resolved it. Amounts are minor units.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from backend import pages
from backend.books import BookDay, Books, Finding, class_names

SUMMARY: dict[str, dict[str, str]] = {
    "en": {
        "empty": "no sessions, payments or terminal totals from {frm} to {to}",
        "clean": "clean: {days} station-days reconcile with no discrepancy",
        "dirty": "{n} discrepancies ({open} open) on {dirty} of {days} station-days",
    },
    "de": {
        "empty": "keine Ladevorgänge, Zahlungen oder Terminal-Summen von {frm} bis {to}",
        "clean": "sauber: {days} Stationstage ohne Abweichung",
        "dirty": "{n} Abweichungen ({open} offen) an {dirty} von {days} Stationstagen",
    },
}


HEADINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Reconciliation",
        "station": "Station",
        "day": "Day",
        "currency": "Currency",
        "sessions": "Sessions",
        "energy": "Energy (Wh)",
        "computed": "Computed",
        "captured": "Captured",
        "refunded": "Refunded",
        "settled": "Settled",
        "fees": "Fees",
        "paid_out": "Paid out",
        "terminal_total": "Terminal total",
        "result": "Result",
        "clean": "clean",
        "resolved": "resolved",
        "minor": "Amounts in minor units of the currency.",
    },
    "de": {
        "title": "Abgleich",
        "station": "Station",
        "day": "Tag",
        "currency": "Währung",
        "sessions": "Ladevorgänge",
        "energy": "Energie (Wh)",
        "computed": "Berechnet",
        "captured": "Eingezogen",
        "refunded": "Erstattet",
        "settled": "Abgerechnet",
        "fees": "Gebühren",
        "paid_out": "Ausgezahlt",
        "terminal_total": "Terminal-Summe",
        "result": "Ergebnis",
        "clean": "sauber",
        "resolved": "geklärt",
        "minor": "Beträge in der kleinsten Einheit der Währung (Cent).",
    },
}


def summary(result: Books, lang: str = "en") -> str:
    texts = SUMMARY.get(lang, SUMMARY["en"])
    findings = result.findings()
    if not result.days:
        return texts["empty"].format(frm=result.date_from, to=result.date_to)
    if not findings:
        return texts["clean"].format(days=len(result.days))
    return texts["dirty"].format(
        n=len(findings),
        open=result.open_count,
        dirty=sum(1 for d in result.days if d.findings),
        days=len(result.days),
    )


def _finding(f: Finding, lang: str) -> dict[str, Any]:
    return {
        "class": f.cls,
        "key": f.key,
        "message": f.message,
        "text": f.text(lang),
        "resolved": f.resolved,
        "notes": [
            {
                "actor": n.actor,
                "at": n.created_at.isoformat().replace("+00:00", "Z"),
                "note": n.note,
            }
            for n in f.notes
        ],
        "records": f.records,
    }


def _day(b: BookDay, lang: str) -> dict[str, Any]:
    r = b.row
    return {
        "station_id": r.station_id,
        "day": r.day.isoformat(),
        "currency": r.currency,
        "sessions": r.sessions,
        "energy_wh": r.energy_wh,
        "computed": r.computed_minor,
        "captured": r.captured_minor,
        "refunded": b.refunded_minor,
        "settled": b.settled_minor,
        "fees": b.fees_minor,
        "paid_out": b.paid_out_minor,
        "terminal_total": r.terminal_total_minor,
        "providers": b.providers,
        "clean": not b.findings,
        "discrepancies": [_finding(f, lang) for f in b.findings],
    }


def to_json(result: Books, lang: str = "en") -> dict[str, Any]:
    return {
        "from": result.date_from.isoformat(),
        "to": result.date_to.isoformat(),
        "generated_at": result.generated_at.isoformat().replace("+00:00", "Z"),
        "lang": lang,
        "clean": not result.findings(),
        "open": result.open_count,
        "summary": summary(result, lang),
        "classes": class_names(lang),
        "days": [_day(b, lang) for b in result.days],
    }


CSV_COLUMNS = (
    "station_id",
    "day",
    "currency",
    "sessions",
    "energy_wh",
    "computed",
    "captured",
    "terminal_total",
    "status",
    "class",
    "message",
    "records",
    # the books' columns, after the reconciliation's so older readers keep their places
    "refunded",
    "settled",
    "fees",
    "paid_out",
    "resolution",
)


def _record_id(ref: dict[str, Any]) -> str:
    for name in ("session_id", "payment_id", "totals_id", "ref"):
        if ref.get(name):
            return str(ref[name])
    return ""


def to_csv(result: Books, lang: str = "en") -> str:
    """One line per finding (status 'discrepancy', or 'resolved' once a note explains it);
    a clean day has one line with status 'clean'."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for b in result.days:
        r = b.row
        base = [
            r.station_id,
            r.day.isoformat(),
            r.currency,
            r.sessions,
            r.energy_wh,
            r.computed_minor,
            r.captured_minor,
            "" if r.terminal_total_minor is None else r.terminal_total_minor,
        ]
        books_cols = [b.refunded_minor, b.settled_minor, b.fees_minor, b.paid_out_minor]
        if not b.findings:
            writer.writerow([*base, "clean", "", "", "", *books_cols, ""])
        for f in b.findings:
            ids = ";".join(_record_id(x) for x in f.records)
            resolution = " | ".join(f"{n.actor}: {n.note}" for n in f.notes)
            status = "resolved" if f.resolved else "discrepancy"
            writer.writerow([*base, status, f.cls, f.text(lang), ids, *books_cols, resolution])
    return out.getvalue()


def to_html(result: Books, lang: str = "en") -> str:
    return pages.env.get_template("reconciliation.html").render(
        result=result,
        classes=class_names(lang),
        summary=summary(result, lang),
        lang=lang,
        h=HEADINGS.get(lang, HEADINGS["en"]),
    )
