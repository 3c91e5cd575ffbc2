"""When a result counts as acknowledged: the driver tells the journal only after the 80 00 00
of the result (and of every receipt) left, and a result whose acknowledgement never left is
not kept by the terminal, not even for Repeat Receipt."""

from __future__ import annotations

from collections.abc import Callable

from zvt_testkit import make_terminal

from drivers.zvt import recovery
from drivers.zvt.errors import LinkError
from drivers.zvt.terminal import ZvtTerminal
from drivers.zvt_sim import TerminalSimulator
from kiosk.devices import AckSink, CardResult, PaymentOutcome


def recording(events: list[tuple[str, object]]) -> Callable[[CardResult], AckSink]:
    def persist(result: CardResult) -> AckSink:
        events.append(("journaled", result.receipt_no))
        return lambda: events.append(("acknowledged", result.receipt_no))

    return persist


def boundaries(events: list[tuple[str, object]], command: str) -> Callable[[str, str], None]:
    def hook(name: str, sent: str) -> None:
        if sent == command:
            events.append((name, sent))

    return hook


def test_a_result_is_marked_acknowledged_only_after_its_acknowledgement_left(
    sim: TerminalSimulator, terminal: ZvtTerminal
) -> None:
    events: list[tuple[str, object]] = []
    terminal.boundary_hook = boundaries(events, "06 22")
    auth = terminal.preauthorise(2500, "EUR", "S1", recording(events), lambda _t: None)
    assert auth.outcome is PaymentOutcome.APPROVED
    receipt = auth.receipt_no
    assert events == [
        ("command_sent", "06 22"),
        ("journaled", receipt),
        ("result_stored", "06 22"),
        ("ack_sent", "06 22"),
        ("acknowledged", receipt),
    ]
    events.clear()
    terminal.boundary_hook = boundaries(events, "06 23")
    booked = terminal.settle(auth, 1200, recording(events))
    assert booked.outcome is PaymentOutcome.APPROVED and booked.receipt_text  # with a receipt
    assert events[-1] == ("acknowledged", booked.receipt_no)  # after the receipt's ACK too
    assert events.index(("ack_sent", "06 23")) < events.index(("acknowledged", booked.receipt_no))


def test_a_result_whose_acknowledgement_never_left_is_dropped_by_the_terminal(
    sim: TerminalSimulator,
) -> None:
    terminal = make_terminal(sim)
    events: list[tuple[str, object]] = []

    def cut(name: str, command: str) -> None:
        if name == "result_stored" and command == "06 22":
            raise LinkError("link cut before the acknowledgement")

    terminal.boundary_hook = cut
    result = terminal.preauthorise(2500, "EUR", "S1", recording(events), lambda _t: None)
    terminal.boundary_hook = None
    (journaled,) = events
    assert journaled[0] == "journaled"  # journaled, never marked acknowledged
    assert result.outcome is PaymentOutcome.LINK_ERROR  # the driver asked: no hold
    assert sim.ledger()["open"] == {}
    repeated: list[object] = []
    recovery.repeat_last(terminal, lambda message: repeated.append(message.int_field("receipt_no")))
    assert journaled[1] not in repeated  # Repeat Receipt does not bring back a dropped result
    terminal.close()
