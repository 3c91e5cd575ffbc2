"""Reconciliation reports as JSON (machines), CSV (spreadsheets) and HTML (people)."""

from __future__ import annotations

import csv
import io
from typing import Any

from backend import pages
from backend.reconcile import CLASSES, Report


def to_json(report: Report) -> dict[str, Any]:
    return {
        "from": report.date_from.isoformat(),
        "to": report.date_to.isoformat(),
        "generated_at": report.generated_at.isoformat().replace("+00:00", "Z"),
        "clean": report.discrepancy_count == 0,
        "summary": summary(report),
        "classes": CLASSES,
        "days": [
            {
                "station_id": r.station_id,
                "day": r.day.isoformat(),
                "currency": r.currency,
                "sessions": r.sessions,
                "energy_wh": r.energy_wh,
                "computed": r.computed_minor,
                "captured": r.captured_minor,
                "terminal_total": r.terminal_total_minor,
                "clean": r.clean,
                "discrepancies": [
                    {"class": d.cls, "message": d.message, "records": d.records}
                    for d in r.discrepancies
                ],
            }
            for r in report.rows
        ],
    }


def summary(report: Report) -> str:
    if not report.rows:
        return (
            f"no sessions, payments or terminal totals from {report.date_from} to {report.date_to}"
        )
    if report.discrepancy_count == 0:
        return f"clean: {len(report.rows)} station-days reconcile with no discrepancy"
    return (
        f"{report.discrepancy_count} discrepancies on "
        f"{sum(1 for r in report.rows if not r.clean)} of {len(report.rows)} station-days"
    )


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
)


def to_csv(report: Report) -> str:
    """One line per discrepancy; a clean day has one line with status 'clean'."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in report.rows:
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
        if r.clean:
            writer.writerow([*base, "clean", "", "", ""])
        for d in r.discrepancies:
            ids = ";".join(
                str(x.get("session_id") or x.get("payment_id") or x.get("totals_id"))
                for x in d.records
            )
            writer.writerow([*base, "discrepancy", d.cls, d.message, ids])
    return out.getvalue()


def to_html(report: Report) -> str:
    return pages.env.get_template("reconciliation.html").render(
        report=report, classes=CLASSES, summary=summary(report)
    )
