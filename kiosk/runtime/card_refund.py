"""Card-present refund from the service menu (ZVT Refund 06 31), journaled like every money
command: the intent before anything is sent, the terminal's result before it is acknowledged,
then the report for the backend, queued in the outbox under a key of its own.

Only a refund the terminal approved *and* got the acknowledgement for is reported: without the
acknowledgement the terminal reverses it (kiosk/unacked.py). A refund is at most what the
session booked, less the refunds already made for it.
"""

from __future__ import annotations

from kiosk.devices import CardResult, CardTerminal
from kiosk.journal.codec import dumps
from kiosk.journal.store import Journal

KIND = "refund"  # card_results.kind and commands.kind "RefundCard"


class RefundRefused(ValueError):
    """A refund the kiosk will not send; the message names the field."""


def refundable(journal: Journal, session_id: str) -> tuple[int, str]:
    """(minor units left to refund, currency) of a session booked by card."""
    booked = journal.query(
        "SELECT amount_minor, currency FROM card_results WHERE session_id = ? AND kind = 'settle'"
        " AND outcome = 'approved' ORDER BY id DESC LIMIT 1",
        (session_id,),
    )
    if not booked:
        raise RefundRefused(f"session: {session_id!r} has no card booking in this journal")
    amount, currency = int(booked[0][0]), str(booked[0][1])
    refunded = journal.query(
        "SELECT COALESCE(SUM(amount_minor), 0) FROM card_results WHERE session_id = ? "
        "AND kind = ? AND outcome = 'approved'",
        (session_id, KIND),
    )
    return amount - int(refunded[0][0]), currency


def run_card_refund(
    journal: Journal, terminal: CardTerminal, session_id: str, amount_minor: int
) -> CardResult:
    """Send the refund and wait for the card and the terminal's answer (blocks)."""
    left, currency = refundable(journal, session_id)
    if not 0 < amount_minor <= left:
        raise RefundRefused(f"amount: {amount_minor} is not within 1..{left} (minor units)")
    command_id = journal.record_intent(
        session_id,
        "RefundCard",
        dumps({"amount_minor": amount_minor, "currency": currency}),
    )
    result = terminal.refund(
        amount_minor, currency, session_id, journal.result_sink(session_id, KIND), lambda _t: None
    )
    journal.mark_command_done(command_id, result.outcome.value)
    return result


def queue_reports(journal: Journal) -> int:
    """Queue every acknowledged, approved refund not queued yet; returns how many were new."""
    instance = journal.instance()
    rows = journal.query(
        "SELECT id, session_id, amount_minor, currency, terminal_id, receipt_no, trace_no, at"
        " FROM card_results WHERE kind = ? AND outcome = 'approved'"
        " AND acknowledged_at IS NOT NULL AND receipt_no IS NOT NULL ORDER BY id",
        (KIND,),
    )
    new = 0
    for rid, sid, amount, currency, tid, receipt, trace, at in rows:
        body = {
            "session_id": sid,
            "amount": amount,
            "currency": currency,
            "terminal_id": (tid or "unknown")[:16],
            "receipt_no": receipt,
            "trace_no": trace,
            "occurred_at": at,
        }
        new += journal.outbox_add("card_refund", f"card_refund:{instance}:{rid}", body)
    return new
