"""The operator's books for a range of days: reconciliation's station-days extended by refunds,
settlement and payouts, each finding with a stable key and the notes operators left on it.

A finding is recomputed on every run and never stored, so a note cannot make it disappear;
the page shows it with its notes ("resolved, because ...").
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from backend import reconcile, settlement_checks
from backend.config import Settings
from backend.db import Database
from backend.finding_text import describe
from backend.models import ChargingSession, DiscrepancyNote, Refund
from backend.operator_texts import CLASS_NAMES_DE
from backend.operators import audit
from backend.reconcile import DayRow, Discrepancy

# Every class the books can find: reconciliation's, then settlement's. The CLI, the API and the
# operator pages all name classes from here.
ALL_CLASSES: dict[str, str] = {**reconcile.CLASSES, **settlement_checks.SETTLEMENT_CLASSES}


def class_names(lang: str) -> dict[str, str]:
    """Each class's one-line name in the operator's language (English where none is written)."""
    return {**ALL_CLASSES, **CLASS_NAMES_DE} if lang == "de" else dict(ALL_CLASSES)


# Refund states that move money (or instruct the acquirer to): they count in the day's totals.
COUNTED_REFUNDS = ("succeeded", "instructed", "pending")


def finding_key(station_id: str, day: date, d: Discrepancy) -> str:
    """The same finding gets the same key on every run (its class and the records it names)."""
    ids = ",".join(
        str(r.get("session_id") or r.get("payment_id") or r.get("totals_id") or r.get("ref"))
        for r in d.records
    )
    raw = f"{station_id}|{day.isoformat()}|{d.cls}|{ids}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


@dataclass
class Finding:
    key: str
    station_id: str
    day: date
    currency: str
    cls: str
    message: str
    records: list[dict[str, Any]]
    notes: list[DiscrepancyNote] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return bool(self.notes)

    def text(self, lang: str) -> str:
        """The finding in the operator's language, amounts as money."""
        return describe(self.cls, self.records, self.currency, lang, self.message)


@dataclass
class BookDay:
    """One station-day: sessions -> computed -> captured -> refunded -> settled -> paid out."""

    row: DayRow
    refunded_minor: int = 0
    settled_minor: int = 0
    fees_minor: int = 0
    paid_out_minor: int = 0
    providers: dict[str, dict[str, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def open_findings(self) -> int:
        return sum(1 for f in self.findings if not f.resolved)


@dataclass
class Books:
    date_from: date
    date_to: date
    generated_at: datetime
    days: list[BookDay]

    def findings(self) -> list[Finding]:
        return [f for d in self.days for f in d.findings]

    @property
    def open_count(self) -> int:
        return sum(d.open_findings for d in self.days)


def _refunds(
    db: Database, start: datetime, end: datetime, station: str | None
) -> dict[tuple[str, date, str], int]:
    """Refunds per station-day of the session they give money back for, so a day's row
    follows its own sessions' money (as captured and settled do)."""
    C = ChargingSession
    stmt = (
        select(C.station_id, C.ended_at, Refund.currency, Refund.amount_minor)
        .join(C, C.pk == Refund.session_pk)
        .where(C.ended_at >= start, C.ended_at < end, Refund.status.in_(COUNTED_REFUNDS))
        .order_by(Refund.id)
    )
    if station is not None:
        stmt = stmt.where(C.station_id == station)
    out: dict[tuple[str, date, str], int] = defaultdict(int)
    with db.read() as s:
        for st, ended, cur, amount in s.execute(stmt):
            out[(st, ended.date(), cur)] += amount
    return out


def _notes(db: Database, keys: list[str]) -> dict[str, list[DiscrepancyNote]]:
    out: dict[str, list[DiscrepancyNote]] = defaultdict(list)
    with db.read() as s:
        for lo in range(0, len(keys), 500):
            stmt = (
                select(DiscrepancyNote)
                .where(DiscrepancyNote.finding_key.in_(keys[lo : lo + 500]))
                .order_by(DiscrepancyNote.id)
            )
            for n in s.scalars(stmt):
                out[n.finding_key].append(n)
    return out


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a reconciliation day starts and ends."""
    return reconcile._bounds(day, day)


def books(
    db: Database, settings: Settings, date_from: date, date_to: date, station: str | None = None
) -> Books:
    report = reconcile.reconcile(db, settings, date_from, date_to, station)
    rows = {(r.station_id, r.day, r.currency): BookDay(r) for r in report.rows}
    start, end = reconcile._bounds(date_from, date_to)

    def day_of(key: tuple[str, date, str]) -> BookDay:
        if key not in rows:
            rows[key] = BookDay(DayRow(*key))
        return rows[key]

    for key, amount in _refunds(db, start, end, station).items():
        day_of(key).refunded_minor += amount
    settlement_checks.add_settlement(
        db, settings, start=start, end=end, station=station, day_of=day_of
    )
    days = sorted(rows.values(), key=lambda b: (b.row.day, b.row.station_id, b.row.currency))
    for b in days:
        for d in b.row.discrepancies:
            b.findings.append(
                Finding(
                    finding_key(b.row.station_id, b.row.day, d),
                    b.row.station_id,
                    b.row.day,
                    b.row.currency,
                    d.cls,
                    d.message,
                    d.records,
                )
            )
    notes = _notes(db, [f.key for b in days for f in b.findings])
    for b in days:
        for f in b.findings:
            f.notes = notes.get(f.key, [])
    return Books(date_from, date_to, report.generated_at, days)


def add_note(
    db: Database, now: datetime, actor: str, finding: Finding, note: str
) -> DiscrepancyNote:
    row = DiscrepancyNote(
        finding_key=finding.key,
        station_id=finding.station_id,
        day=finding.day.isoformat(),
        cls=finding.cls,
        message=finding.message[:500],
        note=note,
        actor=actor,
        created_at=now,
    )
    with db.session() as s:
        s.add(row)
    audit(db, now, actor, "finding_resolved", f"finding:{finding.key}", cls=finding.cls, note=note)
    return row
