"""The driver against the simulator over a real pty and a real TCP socket: every command."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from zvt_testkit import make_terminal, start_sim

from drivers.zvt.results import totals_brand
from drivers.zvt.terminal import ZvtTerminal
from drivers.zvt_sim import Behaviour, Card, TerminalSimulator
from kiosk.devices import CardResult, CardTerminal, PaymentOutcome


class Journal:
    """What the core's journal does with results: store them; checks the PT has not yet."""

    def __init__(self, sim: TerminalSimulator | None = None) -> None:
        self.sim = sim
        self.results: list[CardResult] = []
        self.open_at_persist: list[list[str]] = []

    def persist(self, result: CardResult) -> None:
        if self.sim is not None:
            self.open_at_persist.append(list(self.sim.ledger()["open"]))  # type: ignore[arg-type]
        self.results.append(result)


def preauth(term: ZvtTerminal, journal: Journal, amount: int = 2500, ref: str = "S1") -> CardResult:
    texts: list[str] = []
    return term.preauthorise(amount, "EUR", ref, journal.persist, texts.append)


def test_implements_the_core_contract(terminal: ZvtTerminal) -> None:
    assert isinstance(terminal, CardTerminal)


def test_status_reports_ready_and_terminal_id(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    status = terminal.status()
    assert status.ready and status.raw_status == 0 and status.terminal_id == "52523535"
    sim.set_terminal_status(0xF0)
    status = terminal.status()
    assert not status.ready and status.raw_status == 0xF0 and "end-of-day" in status.text


def test_preauth_then_partial_reversal_books_the_used_amount(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    journal = Journal(sim)
    texts: list[str] = []
    auth = terminal.preauthorise(2500, "EUR", "S-42", journal.persist, texts.append)
    assert auth.outcome is PaymentOutcome.APPROVED and auth.amount_minor == 2500
    assert auth.receipt_no is not None and auth.trace_no is not None
    assert auth.masked_pan == "541333******0011" and auth.card_brand == "Mastercard"
    assert auth.reference == "S-42" and "Karte vorhalten" in texts
    # persisted before the acknowledgement: the PT had not stored it when the journal did
    assert journal.results == [auth] and journal.open_at_persist == [[]]
    assert list(sim.ledger()["open"]) == [str(auth.receipt_no)]  # type: ignore[arg-type]

    done = terminal.settle(auth, 1295, journal.persist)
    assert done.outcome is PaymentOutcome.APPROVED and done.amount_minor == 1295
    assert done.receipt_no != auth.receipt_no and any("12,95" in line for line in done.receipt_text)
    assert journal.results[-1].receipt_no == done.receipt_no
    ledger = sim.ledger()
    assert ledger["open"] == {}
    booked = ledger["booked"]
    assert [(b["amount_minor"], b["original_receipt_no"]) for b in booked] == [  # type: ignore[union-attr, index]
        (1295, auth.receipt_no)
    ]
    assert "06 23" in sim.state.commands_seen


def test_book_total_mode_sends_06_24(sim: TerminalSimulator) -> None:
    term = make_terminal(sim, settle_mode="book_total")
    journal = Journal()
    auth = preauth(term, journal)
    done = term.settle(auth, 1800, journal.persist)
    assert done.outcome is PaymentOutcome.APPROVED and done.amount_minor == 1800
    assert "06 24" in sim.state.commands_seen
    assert [b["amount_minor"] for b in sim.ledger()["booked"]] == [1800]  # type: ignore[union-attr, index]
    term.close()


def test_final_zero_reverses_the_whole_hold(sim: TerminalSimulator, terminal: ZvtTerminal) -> None:
    journal = Journal()
    auth = preauth(terminal, journal)
    done = terminal.settle(auth, 0, journal.persist)
    assert done.outcome is PaymentOutcome.APPROVED and done.amount_minor == 0
    assert "06 25" in sim.state.commands_seen
    ledger = sim.ledger()
    assert ledger["open"] == {} and ledger["booked"] == []
    assert [r["original_receipt_no"] for r in ledger["reversed"]] == [auth.receipt_no]  # type: ignore[union-attr, index]


def test_settle_refuses_more_than_the_hold(terminal: ZvtTerminal) -> None:
    auth = preauth(terminal, Journal())
    with pytest.raises(ValueError, match=r"outside 0\.\.2500"):
        terminal.settle(auth, 2501, Journal().persist)


@pytest.mark.parametrize(
    ("behaviour", "outcome", "code"),
    [
        (Behaviour.DECLINE, PaymentOutcome.DECLINED, 0x05),
        (Behaviour.PIN_REQUIRED, PaymentOutcome.PIN_REQUIRED, 0x41),
        (Behaviour.UNREADABLE, PaymentOutcome.CARD_UNREADABLE, 0x64),
        (Behaviour.CUSTOMER_ABORT, PaymentOutcome.CANCELLED, 0x6C),
    ],
)
def test_refusals_map_to_outcomes_and_keep_the_raw_code(
    sim: TerminalSimulator,
    terminal: ZvtTerminal,
    behaviour: Behaviour,
    outcome: PaymentOutcome,
    code: int,
) -> None:
    sim.script(behaviour)
    journal = Journal()
    result = preauth(terminal, journal)
    assert result.outcome is outcome and result.raw_result_code == code
    assert sim.ledger()["open"] == {}
    assert [r.outcome for r in journal.results] == [outcome]  # the refusal is journaled too


def test_kiosk_abort_while_waiting_for_a_card(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    sim.script(Behaviour.NO_CARD)
    texts: list[str] = []
    # The driver presses cancel on the screen: abort() comes from the UI side, another thread.
    cancel = threading.Timer(0.2, terminal.abort)
    cancel.start()
    result = terminal.preauthorise(2500, "EUR", "S1", Journal().persist, texts.append)
    cancel.join()
    assert result.outcome is PaymentOutcome.CANCELLED and result.raw_result_code == 0x6C
    assert "06 B0" in sim.state.commands_seen and sim.ledger()["open"] == {}
    assert texts == ["Karte vorhalten"]


def test_abort_without_a_card_wait_is_harmless(terminal: ZvtTerminal) -> None:
    terminal.abort()
    assert preauth(terminal, Journal()).outcome is PaymentOutcome.APPROVED


def test_t4_is_kept_alive_by_status_messages_during_a_slow_host(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    # The host takes 2.5 s; T4 is 1.5 s: only the 04 FF every 0.4 s keep the driver waiting.
    sim.script(Card(Behaviour.SLOW_HOST, host_seconds=2.5, status_every=0.4))
    texts: list[str] = []
    result = terminal.preauthorise(2500, "EUR", "S1", Journal().persist, texts.append)
    assert result.outcome is PaymentOutcome.APPROVED
    assert texts.count("Waiting for the bank") >= 4


def test_a_silent_slow_host_runs_out_t4_and_leaves_nothing_open(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    sim.script(Card(Behaviour.SLOW_HOST, host_seconds=2.5, status_every=None))
    result = preauth(terminal, Journal())
    assert result.outcome is PaymentOutcome.LINK_ERROR and result.receipt_no is None
    assert sim.ledger()["open"] == {}
    assert preauth(terminal, Journal()).outcome is PaymentOutcome.APPROVED


def test_open_preauths_survive_a_simulator_restart(kind: str, tmp_path: Path) -> None:
    state = tmp_path / "pt.json"
    sim = start_sim(kind, state)
    term = make_terminal(sim)
    first = preauth(term, Journal(), 2500, "A")
    second = preauth(term, Journal(), 4000, "B")
    assert [p.receipt_no for p in term.open_preauths()] == [first.receipt_no, second.receipt_no]
    term.close()
    sim.stop()

    sim = start_sim(kind, state)
    term = make_terminal(sim)
    assert [p.receipt_no for p in term.open_preauths()] == [first.receipt_no, second.receipt_no]
    assert term.settle(first, 1000, Journal().persist).outcome is PaymentOutcome.APPROVED
    assert term.settle(second, 0, Journal().persist).outcome is PaymentOutcome.APPROVED
    assert term.open_preauths() == []
    term.close()
    sim.stop()


def test_end_of_day_totals_equal_the_journal_per_brand(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    cards = [
        (Card(card_type=0x06, card_name="MasterCard"), 1295),
        (Card(card_type=0x0A, card_name="VISA", pan="4111111111111111"), 2000),
        (Card(card_type=0x06, card_name="MasterCard"), 705),
        (Card(card_type=0x05, card_name="girocard", pan="6726000000000000001"), 999),
        (Card(card_type=0x2E, card_name="Maestro", pan="6759000000000000"), 1500),
        (Card(card_type=0x0A, card_name="VISA", pan="4111111111111111"), 0),  # reversed
    ]
    journal = Journal()
    booked: dict[str, tuple[int, int]] = {}
    for card, final in cards:
        sim.script(card)
        auth = preauth(terminal, journal)
        done = terminal.settle(auth, final, journal.persist)
        assert done.outcome is PaymentOutcome.APPROVED
        if final:
            brand = totals_brand(done.card_brand)
            count, total = booked.get(brand, (0, 0))
            booked[brand] = (count + 1, total + done.amount_minor)
    totals = terminal.end_of_day()
    assert totals.outcome is PaymentOutcome.APPROVED
    assert {b.brand: (b.count, b.amount_minor) for b in totals.brands} == booked
    assert booked == {
        "Mastercard": (2, 2000),
        "VISA": (1, 2000),
        "girocard": (1, 999),
        "others": (1, 1500),
    }
    assert totals.total_minor == sum(total for _, total in booked.values())
    # the batch is closed: a second end-of-day has nothing
    assert terminal.end_of_day().total_minor == 0


def test_end_of_day_is_refused_while_a_preauth_is_open(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    auth = preauth(terminal, Journal())
    totals = terminal.end_of_day()
    assert totals.outcome is PaymentOutcome.ERROR and totals.raw_result_code == 0xB8
    assert totals.receipt_from == auth.receipt_no


def test_persist_failure_is_never_acknowledged_and_the_pt_reverses(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    calls: list[CardResult] = []

    def broken(result: CardResult) -> None:
        calls.append(result)
        raise OSError("disk full")

    result = terminal.preauthorise(2500, "EUR", "S1", broken, lambda _t: None)
    assert result.outcome is PaymentOutcome.ERROR and "disk full" in result.receipt_text[0]
    assert calls and calls[0].outcome is PaymentOutcome.APPROVED
    assert sim.ledger()["open"] == {}  # never acknowledged → the PT did not keep it
    assert "84 9C" in sim.state.commands_seen  # asked for the result once more first
    assert preauth(terminal, Journal()).outcome is PaymentOutcome.APPROVED


def test_persist_that_recovers_after_a_repeat_is_acknowledged(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    stored: list[CardResult] = []

    def flaky(result: CardResult) -> None:
        if not stored and not getattr(flaky, "failed", False):
            flaky.failed = True  # type: ignore[attr-defined]
            raise OSError("database locked")
        stored.append(result)

    result = terminal.preauthorise(2500, "EUR", "S1", flaky, lambda _t: None)
    assert result.outcome is PaymentOutcome.APPROVED and stored == [result]
    assert list(sim.ledger()["open"]) == [str(result.receipt_no)]  # type: ignore[arg-type]


def test_text_block_before_the_result_is_still_the_receipt(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    sim.state.receipt_first = True  # Feig sends 06 D3 before 04 0F
    journal = Journal()
    auth = preauth(terminal, journal)
    done = terminal.settle(auth, 1295, journal.persist)
    assert done.outcome is PaymentOutcome.APPROVED
    assert "Amount EUR 12,95" in done.receipt_text and done.receipt_text[0] == "EV CHARGING"


def test_a_different_terminal_id_is_refused(sim: TerminalSimulator) -> None:
    term = make_terminal(sim, terminal_id="11112222")
    status = term.status()
    assert not status.ready and "52523535 answered, 11112222 expected" in status.text
    result = preauth(term, Journal())
    assert result.outcome is PaymentOutcome.LINK_ERROR and "06 22" not in sim.state.commands_seen


class KioskPowerLoss(BaseException):
    """The kiosk dies: nothing after this line of the driver runs."""


def test_kiosk_dying_before_the_ack_leaves_no_hold_on_the_terminal(
    kind: str, tmp_path: Path
) -> None:
    sim = start_sim(kind, tmp_path / "pt.json")
    term = make_terminal(sim)
    journal: list[CardResult] = []

    def persist_then_die(result: CardResult) -> None:
        journal.append(result)  # the journal has it …
        assert term._protocol is not None
        term._protocol.link.close()  # … and the power goes before 80 00 00 leaves
        raise KioskPowerLoss

    with pytest.raises(KioskPowerLoss):
        term.preauthorise(2500, "EUR", "S1", persist_then_die, lambda _t: None)
    assert journal[0].outcome is PaymentOutcome.APPROVED and journal[0].receipt_no is not None

    restarted = make_terminal(sim)  # recovery after the restart asks the terminal
    assert restarted.open_preauths() == []  # not acknowledged → the terminal did not keep it
    assert sim.ledger()["open"] == {}
    restarted.close()
    sim.stop()


def test_close_logs_off(sim: TerminalSimulator) -> None:
    term = make_terminal(sim)
    assert term.status().ready
    term.close()
    assert sim.state.commands_seen[-1] == "06 02"


def test_an_unreachable_terminal_is_a_link_error_not_a_crash(sim: TerminalSimulator) -> None:
    term = make_terminal(sim, snapshot_before_preauth=False)
    auth = preauth(term, Journal())
    term.close()
    sim.stop()  # the terminal is gone (power, cable)
    again = preauth(term, Journal())
    assert again.outcome is PaymentOutcome.LINK_ERROR and again.receipt_no is None
    settled = term.settle(auth, 100, Journal().persist)
    assert settled.outcome is PaymentOutcome.LINK_ERROR and settled.receipt_no == auth.receipt_no
    assert not term.status().ready


def test_zero_settle_of_a_maestro_hold_releases_it_with_06_23(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    sim.script(Card(card_type=0x2E, card_name="Maestro", pan="6759000000000000"))
    auth = preauth(terminal, Journal())
    assert auth.card_brand == "Maestro"
    done = terminal.settle(auth, 0, Journal().persist)
    assert done.outcome is PaymentOutcome.APPROVED and done.amount_minor == 0
    assert "06 25" not in sim.state.commands_seen
    ledger = sim.ledger()
    assert ledger["open"] == {} and ledger["booked"] == []
    assert [r["original_receipt_no"] for r in ledger["reversed"]] == [auth.receipt_no]  # type: ignore[union-attr, index]


def test_message_boundaries_are_reported_around_every_apdu(terminal: ZvtTerminal) -> None:
    seen: list[tuple[str, str]] = []
    terminal.message_hook = lambda w, a: seen.append((w, a.command))
    journal = Journal()

    def persisted(result: CardResult) -> None:
        seen.append(("persist", "04 0F"))
        journal.persist(result)

    terminal.preauthorise(2500, "EUR", "S-7", persisted, lambda text: None)
    start = seen.index(("send", "06 22"))
    assert seen[start + 1] == ("sent", "06 22")
    result = seen.index(("received", "04 0F"))
    # the 04 0F is stored before its 80 00 00 leaves, and each send is bracketed
    assert seen[result + 1 : result + 4] == [
        ("persist", "04 0F"),
        ("send", "80 00"),
        ("sent", "80 00"),
    ]
