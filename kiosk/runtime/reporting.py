"""The runtime's link to the backend beyond the state machine: the outbox sender, the
backend's reachability (the QR option), the digital receipt's address, end-of-day, and the
records that close things the machine does not (a reversed orphan hold, a payment link whose
id was never journaled).

All of it reads and writes the journal only; the runtime owns the threads it runs on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as TimeOfDay
from zoneinfo import ZoneInfo

from kiosk.devices import Backend, CardTerminal
from kiosk.eod.runner import EndOfDaySchedule, last_notice, run_end_of_day
from kiosk.journal.store import Journal, JournalError
from kiosk.outbox.backoff import Backoff
from kiosk.outbox.receipt import ReceiptLinks
from kiosk.outbox.sender import OutboxSender
from kiosk.outbox.state import outbox_state
from kiosk.runtime import card_refund
from kiosk.runtime.clock import Clock
from kiosk.session.model import Session
from kiosk.session.names import Phase
from kiosk.snapshot import ReportingStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportingOptions:
    outbox_backoff: Backoff | None = None
    probe_period: timedelta = timedelta(seconds=30)
    deliver_reports: bool = True  # False: records stay queued (tests that count commits)
    end_of_day: TimeOfDay | None = None
    zone: ZoneInfo | None = None
    receipt_base_url: str | None = None
    receipt_secret: str | None = None


class Reporting:
    def __init__(
        self,
        journal: Journal,
        backend: Backend | None,
        terminal: CardTerminal | None,
        clock: Clock,
        options: ReportingOptions,
        *,
        republish: Callable[[], None],
    ) -> None:
        self._journal = journal
        self._clock = clock
        self._republish = republish
        self.outbox: OutboxSender | None = None
        if backend is not None and options.deliver_reports:
            self.outbox = OutboxSender(
                journal,
                backend,
                clock,
                backoff=options.outbox_backoff,
                probe_period=options.probe_period,
                on_change=self.changed,
            )
        self.receipt_links: ReceiptLinks | None = None
        if options.receipt_base_url is not None:
            self.receipt_links = ReceiptLinks(
                journal, options.receipt_base_url, options.receipt_secret
            )
        self._eod: EndOfDaySchedule | None = None
        if options.end_of_day is not None and terminal is not None:
            self._eod = EndOfDaySchedule(
                journal, options.zone or ZoneInfo("UTC"), options.end_of_day
            )
        # The last end-of-day's failure or difference, read back after a restart too.
        self.eod_mismatch: str | None = last_notice(journal)
        self.status: ReportingStatus | None = self._status()

    # ------------------------------------------------------------------ state

    def changed(self) -> None:
        """The outbox, the backend's reachability or the end-of-day changed (any thread)."""
        self.status = self._status()
        self._republish()

    def _status(self) -> ReportingStatus | None:
        if self.outbox is None:
            if self.eod_mismatch is None:
                return None
            return ReportingStatus(None, end_of_day_mismatch=self.eod_mismatch)
        try:
            state = outbox_state(self._journal)
        except JournalError as exc:
            log.error("outbox state unknown: %s", exc)
            return ReportingStatus(self.outbox.online, outbox_last_error=str(exc))
        return ReportingStatus(
            backend_online=self.outbox.online,
            outbox_queued=state.queued,
            outbox_parked=state.parked,
            outbox_oldest_at=state.oldest_queued_at,
            outbox_last_error=state.last_error,
            end_of_day_mismatch=self.eod_mismatch,
        )

    def qr_available(self) -> bool:
        """While the backend is unreachable the QR option is hidden; cards keep working."""
        return self.outbox is None or self.outbox.online is not False

    def note_backend(self, *, online: bool) -> None:
        if self.outbox is not None:
            self.outbox.note(online)

    def receipt_url(self) -> Callable[[str], str | None] | None:
        return None if self.receipt_links is None else self.receipt_links.url_for

    # ------------------------------------------------------------------ the sender

    def start(self) -> None:
        if self.outbox is not None:
            self.outbox.start()

    def stop(self) -> None:
        if self.outbox is not None:
            self.outbox.stop()

    def idle(self) -> bool:
        return self.outbox is None or self.outbox.idle()

    def queued(self) -> None:
        """A record was written: send it, and show it queued."""
        if self.outbox is not None:
            self.outbox.wake()
            self.status = self._status()

    # ------------------------------------------------------------------ end-of-day

    def end_of_day_due(self) -> date | None:
        if self._eod is None:
            return None
        try:
            return self._eod.due(self._clock.now())
        except JournalError as exc:
            log.error("end-of-day: %s", exc)
            return None

    def end_of_day_job(
        self, terminal: CardTerminal, day: date, sweep_orphans: Callable[[], None]
    ) -> Callable[[], None]:
        """The run, for the terminal's owner thread."""

        def job() -> None:
            result = run_end_of_day(self._journal, terminal, day, self._clock.now(), sweep_orphans)
            self.eod_mismatch = result.notice
            self.queued()
            self.changed()

        return job

    # ------------------------------------------------------------------ closing records

    def report_orphan_reversals(self) -> None:
        """A hold found open that no session owned, reversed: the backend hears of it as a
        payment outside a session (its key makes a repeat of this harmless)."""
        rows = self._journal.query(
            "SELECT id, amount_minor, currency, receipt_no, trace_no, terminal_id, card_brand, "
            "masked_pan, at FROM card_results WHERE kind = 'orphan_reversal' "
            "AND outcome = 'approved'"
        )
        queued = {
            key
            for (key,) in self._journal.query(
                "SELECT idempotency_key FROM outbox WHERE idempotency_key LIKE 'payment:orphan:%'"
            )
        }
        instance = self._journal.instance()
        # `payment:orphan:<id>`: queued before journals had a name
        rows = [
            r
            for r in rows
            if f"payment:orphan:{instance}:{r[0]}" not in queued
            and f"payment:orphan:{r[0]}" not in queued
        ]
        for rid, amount, currency, receipt, trace, tid, brand, pan, at in rows:
            payment = {
                "method": "card",
                "terminal_id": (tid or "unknown")[:16],
                "receipt_no": receipt,
                "trace_no": trace,
                "card_brand": brand,
                "masked_pan": pan,
                "authorized_amount": amount,
                "captured_amount": 0,
                "status": "released",
            }
            body = {"payment": payment, "currency": currency, "occurred_at": at}
            self._journal.outbox_add("payment", f"payment:orphan:{instance}:{rid}", body)
        if rows:
            self.queued()

    def report_card_refunds(self) -> None:
        """Card-present refunds made at the terminal: each goes to the backend once."""
        if card_refund.queue_reports(self._journal):
            self.queued()

    def guard_unjournaled_link(self, s: Session | None) -> None:
        """A QR session cut off between asking for its link and journaling the answer: the
        link may exist (and be paid) without the kiosk knowing its id. Queue a cancel that
        repeats the creation with its idempotency key (the backend answers with that link,
        or makes one that is cancelled at once), so no hold waits for the backend's expiry."""
        if s is None or s.phase is not Phase.PAYING_QR or s.link_id is not None:
            return
        rows = self._journal.query(
            "SELECT payload_json FROM commands WHERE session_id = ? AND kind = "
            "'CreatePaymentLink' ORDER BY id DESC LIMIT 1",
            (s.session_id,),
        )
        if not rows:
            return
        create = json.loads(rows[0][0])
        self._journal.outbox_add(
            "link_cancel", f"link_cancel:{create['idempotency_key']}", {"create": create}
        )
        log.warning("session %s: its payment link is unknown; a cancel is queued", s.session_id)
