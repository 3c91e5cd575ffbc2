"""Card-present refund from the service menu (ZVT Refund 06 31), journaled like every money
command: the intent before anything is sent, the terminal's result before it is acknowledged,
then the report for the backend, queued in the outbox under a key of its own.

Only a refund the terminal approved *and* got the acknowledgement for is reported: without the
acknowledgement the terminal reverses it (kiosk/unacked.py). A refund is at most what the
session booked, less the refunds already made for it.

A run that dies mid-refund, or a link lost during it, leaves its intent without an outcome.
`resolve_open` settles it (at the next start before any other command reaches the terminal, or
at once after the lost link): an acknowledged result is the outcome; otherwise the terminal is
asked for the last result it kept (Repeat Receipt). An approved result never marked
acknowledged (the kiosk died around its 80 00 00) was kept if that result has its receipt
number, else the terminal reversed it. No result journaled means none was acknowledged, unless
the terminal committed it and the 04 0F was lost on the line: its last result is taken if it is
an approved refund of this amount under a receipt number the journal has never seen. A silent
terminal leaves the intent open, asked again with the orphan sweep, and no new refund starts
until it is settled.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from kiosk.devices import CardResult, CardTerminal, DeviceError, PaymentOutcome
from kiosk.journal.codec import dumps
from kiosk.journal.store import Journal

log = logging.getLogger(__name__)

KIND = "refund"  # card_results.kind and commands.kind "RefundCard"
INTENT = "RefundCard"


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
    # An approved refund counts unless the terminal is known to have dropped it.
    refunded = journal.query(
        "SELECT COALESCE(SUM(amount_minor), 0) FROM card_results WHERE session_id = ? "
        "AND kind = ? AND outcome = 'approved' AND dropped_at IS NULL",
        (session_id, KIND),
    )
    return amount - int(refunded[0][0]), currency


def run_card_refund(
    journal: Journal, terminal: CardTerminal, session_id: str, amount_minor: int
) -> CardResult:
    """Send the refund and wait for the card and the terminal's answer (blocks)."""
    if (unresolved := open_intents(journal)) and not resolve_open(journal, terminal):
        raise RefundRefused(
            f"terminal: the outcome of the refund for {unresolved[0][1]!r} is not known yet;"
            " the kiosk asks the terminal when it answers again"
        )
    left, currency = refundable(journal, session_id)
    if not 0 < amount_minor <= left:
        raise RefundRefused(f"amount: {amount_minor} is not within 1..{left} (minor units)")
    command_id = journal.record_intent(
        session_id,
        INTENT,
        dumps({"amount_minor": amount_minor, "currency": currency}),
    )
    result = terminal.refund(
        amount_minor, currency, session_id, journal.result_sink(session_id, KIND), lambda _t: None
    )
    if result.outcome is PaymentOutcome.LINK_ERROR:
        # Whether the terminal kept it only the terminal can say: asked now; if it stays silent
        # the intent stays open (asked again with the orphan sweep and at the next start).
        resolve_open(journal, terminal)
        return _journaled_outcome(journal, command_id, result, session_id)
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


def open_intents(journal: Journal) -> list[tuple[int, str, str, str]]:
    """Refund intents without an outcome: (command id, session id, payload, written at)."""
    return journal.query(
        "SELECT id, session_id, payload_json, at FROM commands WHERE kind = ? "
        "AND done_at IS NULL ORDER BY id",
        (INTENT,),
    )


def resolve_open(journal: Journal, terminal: CardTerminal) -> bool:
    """Give every refund intent left without an outcome its outcome, asking the terminal where
    the journal cannot tell. False if the terminal did not answer (some stay open)."""
    for command_id, session_id, payload, at in open_intents(journal):
        outcome = _resolve(
            journal,
            terminal,
            command_id=command_id,
            session_id=session_id,
            payload=json.loads(payload),
            intent_at=at,
        )
        if outcome is None:
            return False
        journal.mark_command_done(command_id, outcome)
        log.warning("recovery: refund for %s left open by the last run: %s", session_id, outcome)
    return True


def _resolve(
    journal: Journal,
    terminal: CardTerminal,
    *,
    command_id: int,
    session_id: str,
    payload: dict[str, object],
    intent_at: str,
) -> str | None:
    currency, amount = str(payload["currency"]), int(str(payload["amount_minor"]))
    rows = journal.query(
        "SELECT id, outcome, receipt_no, acknowledged_at IS NOT NULL, dropped_at IS NOT NULL "
        "FROM card_results WHERE session_id = ? AND kind = ? AND at >= ? ORDER BY id DESC "
        "LIMIT 1",
        (session_id, KIND, intent_at),
    )
    if rows and (rows[0][1] != PaymentOutcome.APPROVED.value or rows[0][3] or rows[0][4]):
        return "dropped" if rows[0][4] else str(rows[0][1])  # the journal knows
    try:
        last = terminal.last_result(currency)
    except (DeviceError, OSError) as exc:
        log.warning("recovery: refund %s: the terminal does not answer (%s)", command_id, exc)
        return None
    if not rows:
        return _adopt_lost(journal, last, session_id, amount)
    rid, _outcome, receipt_no, _acked, _dropped = rows[0]
    if last is not None and last.receipt_no == receipt_no and _approved(last):
        journal.mark_card_result_acknowledged(rid)  # kept: reported like any other refund
        return PaymentOutcome.APPROVED.value
    later = journal.query("SELECT count(*) FROM card_results WHERE id > ?", (rid,))[0][0]
    if later:  # the terminal's last result may be a later one: this refund cannot be told
        log.error(
            "recovery: refund receipt %s for %s: not known whether the terminal kept it; "
            "check the terminal's journal",
            receipt_no,
            session_id,
        )
        return "unknown"
    journal.mark_card_result_consumed(rid, dropped=True)  # the terminal reversed it
    return "dropped"


def _approved(result: CardResult | None) -> bool:
    return result is not None and result.outcome is PaymentOutcome.APPROVED


def _adopt_lost(
    journal: Journal, last: CardResult | None, session_id: str, amount_minor: int
) -> str:
    """No result was journaled, so none was acknowledged; but a terminal may commit a refund
    whose 04 0F is then lost on the line. Its last result is that refund if it is approved for
    this amount under a receipt number the journal has never seen: journaled as kept."""
    if not _approved(last) or last is None or last.receipt_no is None:
        return "not_kept"
    known = journal.query(
        "SELECT count(*) FROM card_results WHERE receipt_no = ?", (last.receipt_no,)
    )[0][0]
    if known or last.amount_minor != amount_minor:
        return "not_kept"
    rid = journal.record_card_result(session_id, KIND, replace(last, reference=session_id))
    journal.mark_card_result_acknowledged(rid)
    log.warning("refund for %s: its lost result (receipt %s) taken", session_id, last.receipt_no)
    return PaymentOutcome.APPROVED.value


def _journaled_outcome(
    journal: Journal, command_id: int, sent: CardResult, session_id: str
) -> CardResult:
    """After a lost link: the refund as resolved, if it was (else what the driver returned)."""
    done = journal.query("SELECT result FROM commands WHERE id = ?", (command_id,))
    if not done or done[0][0] != PaymentOutcome.APPROVED.value:
        return sent
    row = journal.query(
        "SELECT amount_minor, receipt_no, trace_no FROM card_results WHERE session_id = ? "
        "AND kind = ? AND acknowledged_at IS NOT NULL ORDER BY id DESC LIMIT 1",
        (session_id, KIND),
    )[0]
    return replace(
        sent,
        outcome=PaymentOutcome.APPROVED,
        amount_minor=int(row[0]),
        receipt_no=row[1],
        trace_no=row[2],
    )
