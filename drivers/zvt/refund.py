"""Refund (06 31) and the question recovery asks about it (Repeat Receipt, 06 20).

A refund is kept by the terminal only after it got ``80 00 00`` for the 04 0F, and the 04 0F
is handed to ``persist`` (journaled) before that. So a kiosk that dies in between leaves a
journaled, unacknowledged result whose fate only the terminal knows: ``last_result`` asks it
for the last result it kept, which recovery compares with the journaled one (receipt number).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.zvt import commands
from drivers.zvt.acks import acknowledged, keep
from drivers.zvt.codec.messages import Message
from drivers.zvt.command_result import failed_result, final_result, status_texts
from drivers.zvt.errors import LinkError, PersistFailed, TerminalRefused
from drivers.zvt.mapping import card_result
from drivers.zvt.results import currency_number
from kiosk.devices import (
    AckSink,
    CardResult,
    DeviceError,
    ResultSink,
    StatusTextSink,
)

if TYPE_CHECKING:
    from drivers.zvt.terminal import ZvtTerminal


def refund(
    term: ZvtTerminal,
    amount_minor: int,
    *,
    currency: str,
    reference: str,
    persist: ResultSink,
    on_text: StatusTextSink,
) -> CardResult:
    """06 31: pay `amount_minor` back to the card the customer presents (see ZvtTerminal)."""
    command = commands.refund(term.config.password, amount_minor, currency_number(currency))
    acks: list[AckSink] = []

    def store(message: Message) -> None:
        keep(acks, persist(card_result(message, currency, reference, [])))

    term._abort.clear()  # the terminal's own abort flag and lock: one command at a time
    with term._lock:
        try:
            done = term._transact(command, store, status_texts(on_text), term._abort)
        except (LinkError, PersistFailed, TerminalRefused) as exc:
            # A result journaled before the link went may still have been kept (its 80 00 00
            # left): it stays "not known acknowledged" and recovery asks the terminal.
            return failed_result(exc, currency, reference)
        finally:
            term._abort.clear()
        acknowledged(acks)
        return final_result(done, amount_minor, currency, reference)


def last_result(term: ZvtTerminal, currency: str) -> CardResult | None:
    """The last result the terminal kept, sent again (06 20, no print). Only read: nothing is
    persisted or acted on here. None if the terminal has none; DeviceError if it is silent."""
    seen: list[Message] = []
    with term._lock:
        try:
            term._transact(commands.repeat_receipt(term.config.password), seen.append)
        except (LinkError, TerminalRefused, PersistFailed) as exc:
            raise DeviceError(f"card terminal: repeat receipt not answered ({exc})") from exc
    return card_result(seen[-1], currency, None, []) if seen else None
