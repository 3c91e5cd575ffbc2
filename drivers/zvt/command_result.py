"""The ``CardResult`` of one money command (06 22, 06 23-25, 06 31), however its exchange ended,
and the status texts the customer sees while it runs.

Shared by every money command so that a link error, a journal that refused the result and a
terminal's ``84 xx`` read the same whichever command met them.
"""

from __future__ import annotations

from collections.abc import Callable

from drivers.zvt.codec.messages import Message
from drivers.zvt.errors import LinkError, PersistFailed, TerminalRefused
from drivers.zvt.mapping import card_result
from drivers.zvt.protocol import Exchange
from drivers.zvt.results import classify, intermediate_text
from kiosk.devices import CardResult, PaymentOutcome, StatusTextSink


def status_texts(on_text: StatusTextSink) -> Callable[[Message], None]:
    """The intermediate-status handler (04 FF): the terminal's own text, else the code's."""

    def show(message: Message) -> None:
        status = message.int_field("intermediate_status")
        on_text(message.texts[0] if message.texts else intermediate_text(status or 0xFF))

    return show


def unreachable(
    exc: Exception, currency: str, reference: str | None, receipt_no: int | None = None
) -> CardResult:
    """The command's outcome is not known from this exchange (the link failed)."""
    return CardResult(
        PaymentOutcome.LINK_ERROR,
        0,
        currency,
        receipt_no=receipt_no,
        reference=reference,
        receipt_text=(f"terminal not reachable: {exc}",),
    )


def failed_result(
    exc: LinkError | PersistFailed | TerminalRefused,
    currency: str,
    reference: str | None,
    receipt_no: int | None = None,
) -> CardResult:
    """A command that ended in an error: the journal refused its result (the terminal reverses
    it, as it got no 80 00 00), the terminal refused the command (84 xx), or the link failed."""
    if isinstance(exc, PersistFailed):
        return CardResult(
            PaymentOutcome.ERROR,
            0,
            currency,
            receipt_no=receipt_no,
            reference=reference,
            receipt_text=(str(exc),),
        )
    if isinstance(exc, TerminalRefused):
        return CardResult(
            classify(exc.code).outcome,
            0,
            currency,
            raw_result_code=exc.code,
            receipt_no=receipt_no,
            reference=reference,
        )
    return unreachable(exc, currency, reference, receipt_no)


def final_result(
    done: Exchange, amount_minor: int, currency: str, reference: str | None
) -> CardResult:
    """The result of an exchange that ended: the last acknowledged result, else the abort's."""
    if done.acknowledged:
        return card_result(done.acknowledged[-1], currency, reference, done.receipt_lines)
    code = done.abort.int_field("result_code") if done.abort else None
    outcome = classify(code).outcome if code is not None else PaymentOutcome.ERROR
    if outcome is PaymentOutcome.APPROVED:  # a completion without any result: not approved
        outcome = PaymentOutcome.ERROR
    texts = tuple(done.receipt_lines) or (done.abort.texts if done.abort else ())
    return CardResult(
        outcome, 0, currency, raw_result_code=code, reference=reference, receipt_text=texts
    )
