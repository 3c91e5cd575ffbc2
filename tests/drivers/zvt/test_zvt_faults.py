"""Every injected fault, driver against simulator: nothing lost, nothing charged twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from zvt_testkit import make_terminal, start_sim

from drivers.zvt.terminal import ZvtTerminal
from drivers.zvt_sim import Fault, TerminalSimulator
from kiosk.devices import CardResult, PaymentOutcome


@pytest.fixture
def pty_sim(tmp_path: Path) -> Iterator[TerminalSimulator]:
    simulator = start_sim("pty", tmp_path / "pt.json")
    yield simulator
    simulator.stop()


def preauth(term: ZvtTerminal, stored: list[CardResult]) -> CardResult:
    return term.preauthorise(2500, "EUR", "S1", stored.append, lambda _t: None)


def open_receipts(sim: TerminalSimulator) -> list[int]:
    return sorted(int(k) for k in sim.ledger()["open"])  # type: ignore[union-attr]


# ---------------------------------------------------------------- serial line faults
@pytest.mark.parametrize(
    ("fault", "count"),
    [(Fault.NAK, 2), (Fault.NO_ACK, 1), (Fault.NO_ACK, 2), (Fault.DROP_ACK, 1)],
)
def test_serial_resend_delivers_the_money_command_exactly_once(
    pty_sim: TerminalSimulator, fault: Fault, count: int
) -> None:
    term = make_terminal(pty_sim, snapshot_before_preauth=False)
    assert term.status().ready  # registered: the fault hits the 06 22 frame itself
    pty_sim.inject(fault, count)
    stored: list[CardResult] = []
    result = preauth(term, stored)
    assert result.outcome is PaymentOutcome.APPROVED
    assert pty_sim.pending_faults() == {}
    assert open_receipts(pty_sim) == [result.receipt_no] and stored == [result]
    assert pty_sim.state.commands_seen.count("06 22") == 1
    term.close()


def test_serial_three_naks_give_up_before_anything_was_charged(pty_sim: TerminalSimulator) -> None:
    term = make_terminal(pty_sim, snapshot_before_preauth=False)
    assert term.status().ready
    pty_sim.inject(Fault.NAK, 3)
    stored: list[CardResult] = []
    result = preauth(term, stored)
    assert result.outcome is PaymentOutcome.LINK_ERROR and result.receipt_no is None
    assert open_receipts(pty_sim) == [] and stored == []
    assert "06 22" not in pty_sim.state.commands_seen
    assert preauth(term, stored).outcome is PaymentOutcome.APPROVED
    term.close()


@pytest.mark.parametrize(("fault", "count"), [(Fault.BAD_CRC, 2), (Fault.GARBAGE, 3)])
def test_serial_bad_crc_and_garbage_from_the_terminal_are_survived(
    pty_sim: TerminalSimulator, fault: Fault, count: int
) -> None:
    term = make_terminal(pty_sim)
    assert term.status().ready
    pty_sim.inject(fault, count)
    stored: list[CardResult] = []
    result = preauth(term, stored)
    assert result.outcome is PaymentOutcome.APPROVED and pty_sim.pending_faults() == {}
    assert open_receipts(pty_sim) == [result.receipt_no]
    done = term.settle(result, 700, stored.append)
    assert done.outcome is PaymentOutcome.APPROVED
    term.close()


def test_tcp_garbage_breaks_sync_before_any_money_moves(tmp_path: Path) -> None:
    sim = start_sim("tcp", tmp_path / "pt.json")
    term = make_terminal(sim)
    assert term.status().ready
    sim.inject(Fault.GARBAGE)
    stored: list[CardResult] = []
    result = preauth(term, stored)  # the garbage eats the answer to the open pre-auth query
    assert result.outcome is PaymentOutcome.LINK_ERROR and stored == []
    assert "06 22" not in sim.state.commands_seen and open_receipts(sim) == []
    assert preauth(term, stored).outcome is PaymentOutcome.APPROVED
    term.close()
    sim.stop()


# ---------------------------------------------------------------- faults on both links
def test_no_response_runs_out_t3_and_charges_nothing(sim: TerminalSimulator) -> None:
    term = make_terminal(sim, snapshot_before_preauth=False)
    assert term.status().ready
    sim.inject(Fault.NO_RESPONSE)  # the 06 22 itself gets no 80 00
    stored: list[CardResult] = []
    first = preauth(term, stored)
    assert first.outcome is PaymentOutcome.LINK_ERROR and first.receipt_no is None
    assert open_receipts(sim) == [] and stored == []
    assert sim.state.commands_seen.count("06 22") == 1  # not re-sent blindly
    second = preauth(term, stored)
    assert second.outcome is PaymentOutcome.APPROVED and open_receipts(sim) == [second.receipt_no]
    term.close()


def test_link_dropped_before_the_result_leaves_no_hold(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    sim.inject(Fault.DROP_BEFORE_RESULT)
    stored: list[CardResult] = []
    result = preauth(terminal, stored)
    assert result.outcome is PaymentOutcome.LINK_ERROR and result.receipt_no is None
    assert stored == [] and open_receipts(sim) == []
    # the driver asked before anything else: the enquiry follows the lost 06 22
    seen = sim.state.commands_seen
    assert seen[seen.index("06 22") + 1 :].count("06 23") >= 1 and seen.count("06 22") == 1


def test_link_dropped_after_approval_finds_the_hold_without_duplicating_it(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    sim.inject(Fault.DROP_AFTER_RESULT)
    stored: list[CardResult] = []
    result = preauth(terminal, stored)
    assert result.outcome is PaymentOutcome.APPROVED
    assert open_receipts(sim) == [result.receipt_no]  # found by the enquiry, not re-sent
    assert sim.state.commands_seen.count("06 22") == 1
    assert [r.receipt_no for r in stored] == [result.receipt_no]  # journaled before the ACK
    assert terminal.settle(result, 1000, stored.append).outcome is PaymentOutcome.APPROVED


def test_lost_result_is_recovered_with_repeat_receipt_and_journaled(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    sim.inject(Fault.LOSE_RESULT)
    stored: list[CardResult] = []
    result = preauth(terminal, stored)
    assert result.outcome is PaymentOutcome.APPROVED and result.receipt_no is not None
    assert open_receipts(sim) == [result.receipt_no] and stored == [result]
    assert "06 20" in sim.state.commands_seen and sim.state.commands_seen.count("06 22") == 1


@pytest.mark.parametrize("fault", [Fault.DROP_AFTER_RESULT, Fault.LOSE_RESULT])
def test_settle_interrupted_after_booking_is_not_booked_twice(
    sim: TerminalSimulator, terminal: ZvtTerminal, fault: Fault
) -> None:
    stored: list[CardResult] = []
    auth = preauth(terminal, stored)
    sim.inject(fault)
    done = terminal.settle(auth, 1500, stored.append)
    assert done.outcome is PaymentOutcome.APPROVED and done.amount_minor == 1500
    ledger = sim.ledger()
    assert ledger["open"] == {} and [b["amount_minor"] for b in ledger["booked"]] == [1500]  # type: ignore[union-attr, index]
    assert stored[-1].receipt_no == done.receipt_no
    assert sim.state.commands_seen.count("06 23") >= 2  # the settle, then the enquiry


def test_settle_interrupted_before_booking_can_be_repeated_once(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    stored: list[CardResult] = []
    auth = preauth(terminal, stored)
    sim.inject(Fault.DROP_BEFORE_RESULT)
    first = terminal.settle(auth, 1500, stored.append)
    assert first.outcome is PaymentOutcome.LINK_ERROR and first.receipt_no == auth.receipt_no
    assert open_receipts(sim) == [auth.receipt_no]  # untouched: safe to settle again
    second = terminal.settle(auth, 1500, stored.append)
    assert second.outcome is PaymentOutcome.APPROVED
    assert [b["amount_minor"] for b in sim.ledger()["booked"]] == [1500]  # type: ignore[union-attr, index]
