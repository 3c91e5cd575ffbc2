"""Refund (06 31) over the real ZVT framing against the terminal simulator (pty and TCP): the
bytes, the card presented, the result persisted before the acknowledgement, the ledger."""

from __future__ import annotations

import pytest
from test_zvt_driver_sim import Journal

from drivers.zvt import commands
from drivers.zvt.terminal import ZvtTerminal
from drivers.zvt_sim import Behaviour, TerminalSimulator
from kiosk.devices import CardResult, PaymentOutcome


def test_refund_command_bytes() -> None:
    # 06 31, length 0D (13): password 00 00 00, BMP 04 amount (6 BCD bytes), BMP 49 currency 0978.
    apdu = commands.refund("000000", 625, 978)
    assert apdu.encode().hex(" ") == "06 31 0d 00 00 00 04 00 00 00 00 06 25 49 09 78"
    with pytest.raises(ValueError, match=r"^amount:"):
        commands.refund("000000", 0, 978)
    with pytest.raises(ValueError, match=r"^amount:"):
        commands.refund("000000", -1, 978)


def test_refund_pays_back_to_the_card_and_is_persisted_first(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    journal = Journal()
    refunds_at_persist: list[int] = []

    def persist(result: CardResult) -> None:
        refunds_at_persist.append(len(sim.ledger()["refunds"]))  # type: ignore[arg-type]
        journal.persist(result)

    texts: list[str] = []
    done = terminal.refund(250, "EUR", "R-7", persist, texts.append)
    assert done.outcome is PaymentOutcome.APPROVED and done.amount_minor == 250
    assert done.receipt_no is not None and done.trace_no is not None
    assert done.masked_pan == "541333******0011" and "Karte vorhalten" in texts
    assert any("GUTSCHRIFT" in line for line in done.receipt_text)
    # persisted before the acknowledgement: the PT had not yet stored the refund
    assert [r.receipt_no for r in journal.results] == [done.receipt_no]
    assert journal.results[0].amount_minor == 250 and refunds_at_persist == [0]
    refunds = sim.ledger()["refunds"]
    assert [(r["amount_minor"], r["receipt_no"]) for r in refunds] == [(250, done.receipt_no)]  # type: ignore[index, union-attr]
    assert "06 31" in sim.state.commands_seen
    # A refund is not a booking: the batch (the day's captures) is untouched.
    assert sim.ledger()["batch"] == []


def test_a_declined_refund_moves_no_money(sim: TerminalSimulator, terminal: ZvtTerminal) -> None:
    sim.script(Behaviour.DECLINE)
    done = terminal.refund(250, "EUR", "R-8", Journal().persist, lambda _t: None)
    assert done.outcome is PaymentOutcome.DECLINED and done.amount_minor == 0
    assert sim.ledger()["refunds"] == []
