"""When and how the kiosk closes the terminal's day.

Due once per local day at the configured time, and only when no card pre-auth is open in the
journal (a session still charging keeps its hold; end-of-day waits for it). Holds the terminal
has open that no session owns are reversed first. The result — the totals, the journal's
bookings and any difference per brand — is journaled and queued for the backend in one
transaction; a difference or a failed run is raised in the snapshot for the service menu.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.devices import BrandTotal, CardTerminal, DeviceError, EndOfDayTotals, PaymentOutcome
from kiosk.eod.compare import BrandDifference, compare, journal_bookings
from kiosk.journal.store import Journal

log = logging.getLogger(__name__)

RETRY = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class EndOfDayResult:
    business_day: date
    outcome: str  # approved | failed | postponed (a card hold is open: nothing was done)
    differences: tuple[BrandDifference, ...] = ()
    detail: str = ""

    @property
    def notice(self) -> str | None:
        """The line for the service menu, or None when all is well."""
        if self.outcome == "postponed":
            return f"End-of-day {self.business_day} not run: {self.detail}"
        if self.outcome != "approved":
            return f"End-of-day {self.business_day} failed: {self.detail}"
        if self.differences:
            listed = "; ".join(_short(d) for d in self.differences)
            return f"End-of-day {self.business_day}: terminal and journal differ ({listed})"
        return None


def _short(d: BrandDifference) -> str:
    return (
        f"{d.brand}: terminal {d.terminal.count}/{d.terminal.amount_minor}, "
        f"journal {d.journal.count}/{d.journal.amount_minor}"
    )


def last_notice(journal: Journal) -> str | None:
    """The service menu's line for the last end-of-day run, from the journal (after a restart
    too): its failure or its differences, or None."""
    rows = journal.query(
        "SELECT business_day, outcome, mismatch_json, detail FROM end_of_day ORDER BY id DESC "
        "LIMIT 1"
    )
    if not rows:
        return None
    day, outcome, mismatch, detail = rows[0]
    if outcome != "approved":
        return f"End-of-day {day} failed: {detail}"
    if mismatch:
        listed = "; ".join(str(m) for m in json.loads(mismatch))
        return f"End-of-day {day}: terminal and journal differ ({listed})"
    return None


def open_preauths(journal: Journal) -> int:
    """Card holds the journal knows to be open: sessions not closed, approvals not seen yet."""
    (n,) = journal.query(
        "SELECT (SELECT COUNT(*) FROM authorisations a JOIN sessions s USING (session_id) "
        "WHERE s.closed_at IS NULL AND a.method = 'card') + (SELECT COUNT(*) FROM card_results "
        "WHERE kind = 'preauth' AND consumed = 0 AND outcome = 'approved')"
    )[0]
    return int(n)


class EndOfDaySchedule:
    def __init__(self, journal: Journal, zone: ZoneInfo, at: time) -> None:
        self._journal = journal
        self._zone = zone
        self._at = at
        self._next_check: datetime | None = None

    def due(self, now: datetime) -> date | None:
        """The business day to close now, or None (not yet, done, or a hold is open)."""
        if self._next_check is not None and now < self._next_check:
            return None
        local = now.astimezone(self._zone)
        if local.time() < self._at:
            return None
        day = local.date()
        done = self._journal.query(
            "SELECT 1 FROM end_of_day WHERE business_day = ? AND outcome = 'approved'",
            (day.isoformat(),),
        )
        if done:
            return None
        self._next_check = now + RETRY  # a failed or postponed run is tried again later
        if open_preauths(self._journal):
            log.info("end-of-day %s postponed: a card hold is open", day)
            return None
        return day


def run_end_of_day(
    journal: Journal,
    terminal: CardTerminal,
    business_day: date,
    now: datetime,
    sweep_orphans: Callable[[], None],
) -> EndOfDayResult:
    """On the terminal's owner thread: reverse orphan holds, close the batch, compare, record.

    Never while the journal knows a card hold to be open (a session charging, an approval not
    taken in yet): closing the batch over it could book the whole hold. The schedule waits for
    that already; this guard holds for every caller, the service menu's button too.
    """
    held = open_preauths(journal)
    if held:
        log.info("end-of-day %s not run: %d card hold(s) open", business_day, held)
        return EndOfDayResult(business_day, "postponed", detail=f"{held} card hold(s) still open")
    try:
        sweep_orphans()
        terminal_id = terminal.status().terminal_id or "unknown"
        totals = terminal.end_of_day()
    except (DeviceError, OSError) as exc:
        totals = EndOfDayTotals(PaymentOutcome.LINK_ERROR, 0, "EUR")
        terminal_id, detail = "unknown", str(exc)
    else:
        detail = "" if totals.outcome is PaymentOutcome.APPROVED else totals.outcome.value
    if totals.outcome is not PaymentOutcome.APPROVED:
        journal.record_end_of_day(
            business_day,
            now,
            outcome="failed",
            terminal_id=terminal_id,
            detail=detail or "no answer",
        )
        log.error("end-of-day %s failed: %s", business_day, detail)
        return EndOfDayResult(business_day, "failed", detail=detail or "no answer")
    booked, last_id = journal_bookings(journal, journal.last_end_of_day_result_id())
    differences = compare(totals, booked)
    payload: dict[str, Any] = {
        "terminal_id": terminal_id[:16],
        "closed_at": now.isoformat(),
        "currency": totals.currency,
        "total": totals.total_minor,
        "count": sum(b.count for b in totals.brands) if totals.brands else None,
        "receipt_from": totals.receipt_from,
        "receipt_to": totals.receipt_to,
        "trace_no": totals.trace_no,
        "brands": [
            {"brand": b.brand[:32], "count": b.count, "amount": b.amount_minor}
            for b in totals.brands
        ],
    }
    journal.record_end_of_day(
        business_day,
        now,
        outcome="approved",
        terminal_id=terminal_id,
        totals=payload,
        journal_side={"through_result_id": last_id, "brands": [_brand(b) for b in booked]},
        mismatch=[_short(d) for d in differences] or None,
        report=payload,
    )
    result = EndOfDayResult(business_day, "approved", tuple(differences))
    if differences:
        log.error("%s", result.notice)
    return result


def _brand(b: BrandTotal) -> dict[str, Any]:
    return {"brand": b.brand, "count": b.count, "amount": b.amount_minor}
