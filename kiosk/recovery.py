"""Start-up recovery: finish, from the journal, everything the last run left open.

1. Results the terminal delivered (journaled before they were acknowledged) but the machine
   never saw are replayed to it first: those marked acknowledged, and those the terminal's open
   pre-auths show it kept (`kiosk.unacked`); a result the terminal dropped is not used.
2. Signing meters end a transaction left running and hand over any unread record, which is
   journaled (kiosk.runtime.signed). Every open session is restored from its journaled state
   and told what its devices say now (`Resumed`); the machine decides: a session still
   charging with a continuous meter resumes (never on a signing meter), anything else is
   stopped and billed from its recorded readings, an approved hold with no energy is
   reversed, a settle with a lost outcome is checked against the terminal's open pre-auths
   before it is sent again.
3. Holds the terminal still has open that no session owns are reversed (after the steps above,
   on the terminal's own thread). A hold that belongs to an open session, or to a session
   closed as booking money since the last end-of-day, is never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from kiosk.devices import (
    CardResult,
    CardTerminal,
    ChargeController,
    DeviceError,
    EnergyMeter,
    PaymentOutcome,
)
from kiosk.journal.store import Journal, JournalError
from kiosk.session import events as ev
from kiosk.session.commands import BeginMetering
from kiosk.session.model import Station
from kiosk.session.names import Phase
from kiosk.unacked import replay_results

log = logging.getLogger(__name__)

_METERING = frozenset({Phase.STARTING, Phase.CHARGING, Phase.STOPPING})


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    sessions: int
    replayed_results: int
    resumed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecoveryParts:
    """What recovery needs of the runtime. It runs before the runtime's threads start, so it
    may read and replace the machine's state and step the machine itself."""

    journal: Journal
    terminal: CardTerminal | None
    meters: Mapping[str, EnergyMeter]
    controllers: Mapping[str, ChargeController]
    now: Callable[[], datetime]
    station: Callable[[], Station]
    set_station: Callable[[Station], None]
    start_metering: Callable[[BeginMetering], None]
    handle: Callable[[ev.Event], None]
    recover_signed: Callable[[], None]  # signing meters: end what was left running
    sweep_orphans_later: Callable[[], None]  # on the terminal's own thread, after recovery


def recover(parts: RecoveryParts) -> RecoveryReport:
    journal = parts.journal
    sessions = journal.open_sessions()
    parts.set_station(replace(parts.station(), sessions=tuple(sessions), focus=None))
    for s in sessions:
        if s.phase in _METERING and s.meter_start is not None:
            start = BeginMetering(s.session_id, s.connector_id, s.meter_start, s.offer.tariff_json)
            parts.start_metering(start)
    now = parts.now()
    open_receipts = _open_receipts(parts.terminal)
    holds = {s.session_id: s.auth.receipt_no if s.auth else None for s in sessions}
    replayed = replay_results(journal, parts.handle, holds, open_receipts, now)
    # A signed transaction left running is ended and its record journaled first: a session
    # that ran under it is then stopped and billed from that record.
    parts.recover_signed()
    resumed = []
    for s in parts.station().sessions:
        controller = parts.controllers.get(s.connector_id)
        meter = parts.meters.get(s.connector_id)
        status = reading = None
        try:
            status = controller.status() if controller is not None else None
        except (DeviceError, OSError) as exc:
            log.warning("recovery: controller of %s does not answer (%s)", s.connector_id, exc)
        try:
            reading = meter.read() if meter is not None else None
        except (DeviceError, OSError) as exc:
            log.warning("recovery: meter of %s does not answer (%s)", s.connector_id, exc)
        if status is not None:
            parts.handle(ev.ControllerUpdate(now, s.connector_id, status))
        parts.handle(ev.Resumed(now, s.session_id, status, reading, open_receipts))
        after = parts.station().session(s.session_id)
        if after is not None and after.phase is Phase.CHARGING:
            resumed.append(s.session_id)
    parts.sweep_orphans_later()
    report = RecoveryReport(len(sessions), replayed, tuple(resumed))
    if sessions or replayed:
        log.info("recovery: %s", report)
    return report


def _open_receipts(terminal: CardTerminal | None) -> frozenset[int] | None:
    if terminal is None:
        return None
    try:
        return frozenset(p.receipt_no for p in terminal.open_preauths())
    except (DeviceError, OSError) as exc:
        log.warning("recovery: terminal does not list open pre-auths (%s)", exc)
        return None


def sweep_orphan_holds(journal: Journal, terminal: CardTerminal, currency: str) -> list[int] | None:
    """Reverse every hold the terminal has open that no open session owns; the receipt numbers
    reversed, or None when the terminal did not say which holds it has (to be tried again)."""
    try:
        open_holds = terminal.open_preauths()
    except (DeviceError, OSError) as exc:
        log.warning("orphan sweep: terminal does not list open pre-auths (%s)", exc)
        return None
    held = journal.held_receipts()
    reversed_ = []
    for hold in open_holds:
        if hold.receipt_no in held:
            continue
        auth = CardResult(
            PaymentOutcome.APPROVED,
            hold.amount_minor or 0,
            currency,
            receipt_no=hold.receipt_no,
            trace_no=hold.trace_no,
        )
        try:
            journal.record_orphan_reversal(hold.receipt_no, hold.amount_minor)
            result = terminal.settle(auth, 0, journal.result_sink(None, "orphan_reversal"))
        except (DeviceError, OSError, JournalError) as exc:
            log.error("orphan sweep: hold %s not reversed (%s)", hold.receipt_no, exc)
            continue
        if result.outcome is PaymentOutcome.APPROVED:
            reversed_.append(hold.receipt_no)
        log.warning("orphan sweep: hold %s -> %s", hold.receipt_no, result.outcome.value)
    return reversed_
