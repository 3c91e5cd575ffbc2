"""After the link failed in the middle of a money command: ask the terminal what happened.

The open pre-auth list (06 23 87 FFFF) says whether a hold exists or is gone; where the result
itself never arrived, Repeat Receipt (06 20) brings back the last one the terminal kept, which is
journaled (``persist``) before it is acknowledged. What cannot be resolved is returned as
``PaymentOutcome.LINK_ERROR`` with what is known, and the money command is not sent again here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from drivers.zvt import commands
from drivers.zvt.acks import acknowledged, keep
from drivers.zvt.codec.messages import Message
from drivers.zvt.errors import LinkError, PersistFailed, TerminalRefused
from drivers.zvt.mapping import card_result
from drivers.zvt.protocol import Exchange
from kiosk.devices import AckSink, CardResult, OpenPreauth, PaymentOutcome, ResultSink

if TYPE_CHECKING:
    from drivers.zvt.terminal import ZvtTerminal

log = logging.getLogger("drivers.zvt")


def open_preauths(term: ZvtTerminal) -> list[OpenPreauth] | None:
    """The open pre-auths after a link error; None if the terminal stays silent."""
    for _ in range(term.config.recovery_attempts):
        try:
            return term._query_open()
        except (LinkError, TerminalRefused) as exc:
            log.warning("ZVT recovery: open pre-auth enquiry failed (%s)", exc)
    return None


def repeat_last(term: ZvtTerminal, accept: Callable[[Message], None]) -> Message | None:
    """Ask for the last result again (06 20); ``accept`` stores it before it is acknowledged."""
    try:
        done = term._transact(commands.repeat_receipt(term.config.password), accept)
    except (LinkError, TerminalRefused, PersistFailed) as exc:
        log.warning("ZVT recovery: repeat receipt failed (%s)", exc)
        return None
    return done.status_infos[-1] if done.status_infos else None


def recover_preauth(
    term: ZvtTerminal,
    partial: Exchange,
    before: set[int] | None,
    amount_minor: int,
    currency: str,
    *,
    reference: str,
    persist: ResultSink,
) -> CardResult:
    """The pre-auth whose exchange broke off: ``partial`` is what had arrived, ``before`` the
    open receipts seen before it was sent (None if not asked)."""
    log.warning("ZVT: link lost during pre-authorisation; asking the terminal")
    unknown = CardResult(PaymentOutcome.LINK_ERROR, 0, currency, reference=reference)
    open_now = open_preauths(term)
    seen = partial.status_infos[-1] if partial.status_infos else None
    if open_now is None:
        if seen is not None:
            return replace(
                card_result(seen, currency, reference, []), outcome=PaymentOutcome.LINK_ERROR
            )
        return unknown
    receipts = {p.receipt_no for p in open_now}
    if seen is not None:
        result = card_result(seen, currency, reference, partial.receipt_lines)
        if result.outcome is PaymentOutcome.APPROVED and result.receipt_no in receipts:
            return result  # the hold exists and was stored before the link went
        return (
            replace(result, outcome=PaymentOutcome.LINK_ERROR)
            if result.outcome is PaymentOutcome.APPROVED
            else result
        )
    new = receipts - before if before is not None else set()
    if not new:
        return unknown  # no hold was created: a new attempt is safe
    recovered: list[CardResult] = []
    acks: list[AckSink] = []

    def accept(message: Message) -> None:
        if message.int_field("receipt_no") in new:  # our lost result: journal it first
            result = card_result(message, currency, reference, [])
            keep(acks, persist(result))
            recovered.append(result)

    if repeat_last(term, accept) is not None:
        acknowledged(acks)
    if recovered:
        return recovered[-1]
    return replace(unknown, receipt_no=min(new), amount_minor=amount_minor)


def recover_settle(
    term: ZvtTerminal, partial: Exchange, auth: CardResult, persist: ResultSink
) -> CardResult:
    """The settling (06 23/24/25) of ``auth``'s hold whose exchange broke off."""
    log.warning("ZVT: link lost while settling receipt %s; asking the terminal", auth.receipt_no)
    unknown = CardResult(
        PaymentOutcome.LINK_ERROR,
        0,
        auth.currency,
        receipt_no=auth.receipt_no,
        reference=auth.reference,
    )
    open_now = open_preauths(term)
    if open_now is None:
        return unknown
    if auth.receipt_no in {p.receipt_no for p in open_now}:
        return unknown  # the hold is untouched: settling again is safe
    if partial.status_infos:  # already journaled when it arrived
        seen = partial.status_infos[-1]
        return card_result(seen, auth.currency, auth.reference, partial.receipt_lines)
    recovered: list[CardResult] = []
    acks: list[AckSink] = []

    def accept(message: Message) -> None:
        result = card_result(message, auth.currency, auth.reference, [])
        if result.outcome is PaymentOutcome.APPROVED:
            keep(acks, persist(result))
            recovered.append(result)

    if repeat_last(term, accept) is not None:
        acknowledged(acks)
    if recovered:
        return recovered[-1]
    return replace(unknown, receipt_text=("hold closed; result not received",))
