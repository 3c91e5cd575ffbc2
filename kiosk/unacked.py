"""Terminal results the machine never saw: which of them recovery may act on.

A result is journaled before the driver acknowledges it, and marked once the acknowledgement was
sent; the terminal keeps a transaction only after it got that acknowledgement (ZVT 80 00 00).
A result marked acknowledged is final. An approved one without the mark (the kiosk died between
journaling and acknowledging) is checked against the terminal's open pre-auths first:

* a pre-auth is kept if its hold is open; if not, the terminal dropped it and there is no hold
  (the session fails unpaid and never charges on it);
* a booking, partial reversal or reversal is kept if its hold is no longer open; if the hold is
  still open it did not stick and the session settles again, once;
* with the terminal silent, a pre-auth is taken (its session only releases it) and a settle is
  not: the session asks the terminal before anything is sent again.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from kiosk.devices import PaymentOutcome
from kiosk.journal.store import Journal, StoredCardResult
from kiosk.session import events as ev

log = logging.getLogger(__name__)


def replay_results(
    journal: Journal,
    handle: Callable[[ev.Event], None],
    holds: Mapping[str, int | None],
    open_receipts: frozenset[int] | None,
    now: datetime,
) -> int:
    """Hand the machine every pending result the terminal keeps; `holds` maps a session to its
    hold's receipt number. Every pending result is marked consumed (a dropped one as dropped).
    Returns how many went in."""
    replayed = 0
    for stored in journal.pending_card_results():
        sid = stored.session_id
        verdict = Verdict.USE
        if sid is not None and stored.kind in ("preauth", "settle"):
            verdict = judge(stored, holds.get(sid), open_receipts)
            if verdict is Verdict.USE:
                event: ev.Event
                if stored.kind == "preauth":
                    event = ev.PreauthDone(now, sid, stored.result)
                else:
                    event = ev.SettleDone(now, sid, stored.result)
                handle(event)
                replayed += 1
            else:
                log.warning(
                    "recovery: %s result %s of session %s was never acknowledged: %s",
                    stored.kind,
                    stored.result.receipt_no,
                    sid,
                    verdict.value,
                )
        journal.mark_card_result_consumed(stored.id, dropped=verdict is Verdict.DROPPED)
    return replayed


class Verdict(enum.Enum):
    USE = "used"
    DROPPED = "the terminal did not keep it; not used"
    ASK = "the terminal is silent; the session asks it before anything is sent again"


def judge(
    stored: StoredCardResult, hold_receipt: int | None, open_receipts: frozenset[int] | None
) -> Verdict:
    """Whether recovery may act on this journaled result."""
    result = stored.result
    if stored.acknowledged or result.outcome is not PaymentOutcome.APPROVED:
        return Verdict.USE  # acknowledged, or nothing that moves money
    if stored.kind == "preauth":
        if open_receipts is None or result.receipt_no in open_receipts:
            return Verdict.USE  # kept, or unknown: owned by its session, which only releases it
        return Verdict.DROPPED
    if open_receipts is None:
        return Verdict.ASK
    if hold_receipt is not None and hold_receipt in open_receipts:
        return Verdict.DROPPED  # the hold it booked or released is still open
    return Verdict.USE
