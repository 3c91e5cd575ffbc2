"""Refund (06 31) over the real ZVT framing against the terminal simulator (pty and TCP): the
bytes, the card presented, the result persisted before the acknowledgement, the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_zvt_driver_sim import Journal

from drivers.zvt import commands
from drivers.zvt.terminal import ZvtTerminal
from drivers.zvt_sim import Behaviour, Card, TerminalSimulator
from kiosk.devices import CardResult, PaymentOutcome
from kiosk.eod.compare import compare, journal_bookings
from kiosk.journal.store import Journal as KioskJournal


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


def _book(terminal: ZvtTerminal, journal: KioskJournal, sid: str, amount: int) -> None:
    auth = terminal.preauthorise(3000, "EUR", sid, journal.result_sink(sid, "preauth"), str)
    done = terminal.settle(auth, amount, journal.result_sink(sid, "settle"))
    assert done.outcome is PaymentOutcome.APPROVED


def test_end_of_day_subtracts_refunds_per_card_type_and_matches_the_journal(
    sim: TerminalSimulator, terminal: ZvtTerminal, tmp_path: Path
) -> None:
    """The terminal's totals are bookings less refunds, per card type (a refund is a
    transaction of the card it went to), and so is the journal's side: they agree. A refund
    the journal never heard of is then the one difference, found once."""
    journal = KioskJournal.open(tmp_path / "journal.db")
    visa = Card(card_type=0x0A, card_name="VISA", pan="4111111111111111")
    sim.script(Card(card_type=0x06, card_name="MasterCard"))
    _book(terminal, journal, "S-1", 1200)
    sim.script(visa)
    _book(terminal, journal, "S-2", 800)
    sim.script(Card(card_type=0x06, card_name="MasterCard"))
    refunded = terminal.refund(300, "EUR", "S-1", journal.result_sink("S-1", "refund"), str)
    assert refunded.outcome is PaymentOutcome.APPROVED
    totals = terminal.end_of_day()
    assert totals.outcome is PaymentOutcome.APPROVED
    assert {b.brand: (b.count, b.amount_minor) for b in totals.brands} == {
        "Mastercard": (2, 900),
        "VISA": (1, 800),
    }
    assert totals.total_minor == 1700
    assert totals.receipt_to == refunded.receipt_no  # the refund is in the batch's range
    booked, last = journal_bookings(journal, 0)
    assert compare(totals, booked) == []

    # Planted: a refund to a VISA card the kiosk's journal does not know.
    sim.script(visa)
    _book(terminal, journal, "S-3", 1000)
    sim.script(visa)
    terminal.refund(250, "EUR", "S-9", Journal().persist, str)
    totals = terminal.end_of_day()
    assert totals.total_minor == 750
    (difference,) = compare(totals, journal_bookings(journal, last)[0])
    assert difference.brand == "VISA"
    assert (difference.terminal.count, difference.terminal.amount_minor) == (2, 750)
    assert (difference.journal.count, difference.journal.amount_minor) == (1, 1000)
    journal.close()


def test_more_refunded_than_booked_keeps_the_batch_open(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    """A card type's total cannot go below zero on the line (BCD): the simulator refuses the
    end-of-day (77) and keeps the batch until bookings outweigh the refunds."""
    terminal.refund(300, "EUR", "S-1", Journal().persist, str)
    refused = terminal.end_of_day()
    assert refused.outcome is PaymentOutcome.ERROR and refused.raw_result_code == 0x77
    assert sim.ledger()["refund_batch"] != []


def test_last_result_is_the_last_kept_one_and_is_not_persisted(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    assert terminal.last_result("EUR") is None  # nothing kept yet
    journal = Journal()
    done = terminal.refund(250, "EUR", "R-1", journal.persist, str)
    again = terminal.last_result("EUR")
    assert again is not None and again.receipt_no == done.receipt_no
    assert again.outcome is PaymentOutcome.APPROVED and again.amount_minor == 250
    assert len(journal.results) == 1 and "06 20" in sim.state.commands_seen
