"""Device drills on the money path: the terminal link lost while booking the total, the
meter going silent mid-session. Each time the money ends once, for what was metered, and the
backend has the session once and reconciles clean."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.modbus_sim import Fault as ModbusFault
from drivers.station import BackendAccess
from drivers.zvt_sim import Fault as TerminalFault
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart, ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.rig import BackendProcess, Kiosk, kiosk


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[BackendProcess]:
    """A backend of its own per drill: every drill's terminal simulator starts at receipt 1,
    and one backend would rightly call the second receipt 1 of that terminal a duplicate."""
    process = BackendProcess(tmp_path / "backend").start()
    try:
        yield process
    finally:
        process.stop()


def start_card_session(k: Kiosk) -> str:
    k.station.sims["1"].plug_in(soc=0.3)
    k.advance(2)
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    k.send(ConfirmPrice(sid))
    k.send(PayByCard(sid))
    k.advance(180, step=10)
    assert k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING
    return sid


def finish(k: Kiosk, sid: str) -> int:
    for _ in range(30):
        focus = k.snap.focus
        if focus is not None and focus.phase in (Phase.RECEIPT, Phase.FAILED):
            break
        k.advance(5, step=5)
    focus = k.snap.focus
    assert focus is not None and focus.phase is Phase.RECEIPT, focus
    assert focus.receipt is not None
    total = focus.receipt.total.minor
    k.send(BackToStart(sid))
    k.advance(5)
    assert k.snap.reporting is not None and k.snap.reporting.outbox_queued == 0
    return total


def booked(k: Kiosk) -> list[int]:
    assert k.station.terminal_sim is not None
    ledger = k.station.terminal_sim.ledger()
    return [int(e["amount_minor"]) for e in ledger["booked"]]  # type: ignore[index, union-attr]


@pytest.mark.parametrize("fault", [TerminalFault.DROP_BEFORE_RESULT, TerminalFault.LOSE_RESULT])
def test_terminal_link_lost_during_book_total_books_once(
    backend: BackendProcess, access: BackendAccess, workdir: Path, fault: TerminalFault
) -> None:
    book_total = lambda c: dataclasses.replace(c, settle_mode="book_total")  # noqa: E731
    with kiosk(workdir, access, hold=3000, zvt=book_total) as k:
        sid = start_card_session(k)
        assert k.station.terminal_sim is not None
        k.station.terminal_sim.inject(fault)
        k.send(StopCharging(sid))
        total = finish(k, sid)
        bookings = booked(k)
        day = k.clock.now()
    assert bookings == [total]  # booked once, for the metered cost
    (stored,) = [s for s in backend.sessions() if s["session_id"] == sid]
    assert stored["reported_minor"] == stored["computed_minor"] == total
    report = backend.reconciliation(day)
    assert report["clean"] is True, [r["discrepancies"] for r in report["days"]]
    print(f"\ndrill terminal-link-lost ({fault.value}): bookings={len(bookings)} stored=1")


def test_meter_silent_mid_session_stops_and_bills_what_was_metered(
    backend: BackendProcess, access: BackendAccess, workdir: Path
) -> None:
    with kiosk(workdir, access, hold=3000) as k:
        sid = start_card_session(k)
        metered = k.snap.focus.live if k.snap.focus else None
        assert metered is not None and metered.energy_wh > 0
        k.station.sims["1"].inject("meter", ModbusFault.SILENCE)
        k.advance(60, step=10)  # longer than meter_stale_s
        focus = k.snap.focus
        assert focus is not None and focus.phase is not Phase.CHARGING
        k.station.sims["1"].clear_faults("meter")
        total = finish(k, sid)
        bookings = booked(k)
        day = k.clock.now()
    assert bookings == [total] and total > 0
    (stored,) = [s for s in backend.sessions() if s["session_id"] == sid]
    assert stored["reported_minor"] == stored["computed_minor"] == total
    assert backend.reconciliation(day)["clean"] is True
    print(f"\ndrill meter-silent: bookings={len(bookings)} billed={total} stored=1")
