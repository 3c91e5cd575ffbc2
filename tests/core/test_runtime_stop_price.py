"""What the driver agrees to at Stop is what is booked, whichever poller reports first.

The runtime's threads are not started: each test hands the events to ``Runtime.handle`` in
the order it names (meter before controller, controller before meter), on a fixed clock, so
the phase between the pollers that made the bill vary is under the test's control.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from doubles.builders import at, card, controller, reading
from doubles.rig import Rig, tariff_cost

from kiosk.devices import IecState
from kiosk.session import events as ev
from kiosk.session.commands import SettleCard
from kiosk.snapshot import ConfirmPrice, PayByCard, Phase, StopCharging

SAMPLE_TARIFF = Path(__file__).resolve().parents[2] / "assets" / "samples" / "tariff.json"
SID = "S1"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    # T0 is Sunday 13:00 in Berlin: the off-peak 0,59 €/kWh + 0,49 € line applies.
    r = Rig(tmp_path, tariff=json.loads(SAMPLE_TARIFF.read_text()))
    yield r
    r.journal.close()


def _charge_then_stop(rig: Rig) -> tuple[int, list[SettleCard]]:
    """Charge 1000 Wh in 60 s, then the driver stops; returns the cost the dialog showed."""
    rt = rig.rt
    settles: list[SettleCard] = []
    dispatch = rt._executor.dispatch

    def record(command: object, command_id: int) -> None:
        if isinstance(command, SettleCard):
            settles.append(command)
        else:
            dispatch(command, command_id)  # type: ignore[arg-type]

    rt._executor.dispatch = record  # type: ignore[method-assign]
    rt.handle(ev.ControllerUpdate(at(0), "1", controller(IecState.B, 0)))
    rt.handle(ev.MeterUpdate(at(0), "1", reading(10_000, 0)))
    rt.handle(ev.ConnectorChosen(at(1), "1", SID, rt.offers["1"]))
    rt.handle(ev.IntentReceived(at(1), ConfirmPrice(SID)))
    rt.handle(ev.IntentReceived(at(1), PayByCard(SID)))
    rt.handle(ev.PreauthDone(at(1), SID, card()))
    rt.handle(ev.ControllerUpdate(at(2), "1", controller(IecState.C, 2, enabled=True)))
    for t in range(3, 63):
        rt.handle(ev.MeterUpdate(at(t), "1", reading(10_000 + (t - 2) * 1000 // 60, t)))
        rt.handle(ev.ControllerUpdate(at(t), "1", controller(IecState.C, t, enabled=True)))
    session = rt.station.session(SID)
    assert session is not None and session.phase is Phase.CHARGING
    shown = session.cost_minor  # what the Stop dialog says ("You will pay …")
    rt.handle(ev.IntentReceived(at(62.2), StopCharging(SID)))
    return shown, settles


def test_state_b_after_stop_reported_before_the_final_reading_is_not_parking(rig: Rig) -> None:
    shown, settles = _charge_then_stop(rig)
    assert shown == 108  # 1,000 kWh × 0,59 € + 0,49 € session fee
    rt = rig.rt
    # The controller reports the B the kiosk caused before the meter's final reading.
    rt.handle(ev.ControllerUpdate(at(62.6), "1", controller(IecState.B, 62.6)))
    rt.handle(ev.ChargingSwitched(at(62.7), "1", SID, enabled=False, ok=True))
    rt.handle(ev.MeterUpdate(at(63.4), "1", reading(11_000, 63.4)))
    (settle,) = settles
    assert settle.final_minor == shown
    session = rt.station.session(SID)
    assert session is not None
    assert [line.component for line in session.cost_lines] == ["energy", "fixed"]


def test_final_reading_before_state_b_is_booked_as_shown(rig: Rig) -> None:
    shown, settles = _charge_then_stop(rig)
    rt = rig.rt
    # Meter first (still C), then the kiosk's B, then the reading after the switch-off.
    rt.handle(ev.MeterUpdate(at(63), "1", reading(11_000, 63)))
    rt.handle(ev.ControllerUpdate(at(63), "1", controller(IecState.B, 63)))
    rt.handle(ev.ChargingSwitched(at(63.1), "1", SID, enabled=False, ok=True))
    rt.handle(ev.MeterUpdate(at(64), "1", reading(11_000, 64)))
    (settle,) = settles
    assert settle.final_minor == shown


def test_energy_metered_while_switching_off_is_not_billed_in_any_ledger(rig: Rig) -> None:
    shown, settles = _charge_then_stop(rig)
    rt = rig.rt
    rt.handle(ev.ControllerUpdate(at(62.6), "1", controller(IecState.B, 62.6)))
    rt.handle(ev.ChargingSwitched(at(62.7), "1", SID, enabled=False, ok=True))
    rt.handle(ev.MeterUpdate(at(63), "1", reading(11_009, 63)))  # 9 Wh more: 1 ct more
    (settle,) = settles
    assert settle.final_minor == shown
    session = rt.station.session(SID)
    assert session is not None and session.cost_minor == shown
    assert sum(line.amount.minor for line in session.cost_lines) == shown
    # The journal (what the backend recomputes from) ends at the reading the driver saw.
    readings = rig.journal.readings(SID)
    assert readings[-1].reading.energy_import_wh == 11_000
    assert tariff_cost(rig.rt.offers["1"].tariff_json, readings) == shown


def test_vehicle_pause_before_stop_is_billed_as_parking(tmp_path: Path) -> None:
    r = Rig(tmp_path, tariff=json.loads(SAMPLE_TARIFF.read_text()))
    try:
        rt = r.rt
        rt.handle(ev.ControllerUpdate(at(0), "1", controller(IecState.B, 0)))
        rt.handle(ev.MeterUpdate(at(0), "1", reading(10_000, 0)))
        rt.handle(ev.ConnectorChosen(at(1), "1", SID, rt.offers["1"]))
        rt.handle(ev.IntentReceived(at(1), ConfirmPrice(SID)))
        rt.handle(ev.IntentReceived(at(1), PayByCard(SID)))
        rt.handle(ev.PreauthDone(at(1), SID, card()))
        rt.handle(ev.ControllerUpdate(at(2), "1", controller(IecState.C, 2, enabled=True)))
        rt.handle(ev.MeterUpdate(at(3), "1", reading(11_000, 3)))
        rt.handle(ev.ControllerUpdate(at(4), "1", controller(IecState.B, 4, enabled=True)))
        rt.handle(ev.MeterUpdate(at(125), "1", reading(11_000, 125)))
        session = rt.station.session(SID)
        assert session is not None
        # 122 s parked, billed per started minute: 3 min × 0,10 €.
        parking = [line for line in session.cost_lines if line.component == "parking"]
        assert [line.amount.minor for line in parking] == [30]
        assert session.cost_minor == 59 + 49 + 30
    finally:
        r.journal.close()


def test_the_idle_tiles_follow_the_price_in_force_as_the_clock_passes_a_boundary(
    tmp_path: Path,
) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from kiosk.runtime.clock import FakeClock

    monday = datetime(2026, 12, 7, 0, 20, tzinfo=ZoneInfo("Europe/Berlin"))
    r = Rig(tmp_path, tariff=json.loads(SAMPLE_TARIFF.read_text()), clock=FakeClock(monday))
    r.start()
    try:

        def energy() -> list[str]:
            (tile,) = r.snap.connectors
            assert tile.price is not None
            return [str(x.price_incl_vat) for x in tile.price.lines if x.dimension == "energy"]

        assert energy() == ["0.59"]
        (tile,) = r.snap.connectors
        assert tile.price is not None and tile.price.next_at == monday.replace(hour=17, minute=0)
        published = r.snap.seq
        r.clock.advance(timedelta(hours=16, minutes=39, seconds=59))  # 16:59:59
        r.idle()
        assert energy() == ["0.59"]
        r.advance(2)  # 17:00:01: a tick past the boundary publishes the new price
        assert energy() == ["0.69"]
        assert r.snap.seq > published
    finally:
        r.stop()


@pytest.mark.parametrize("controller_first", [True, False], ids=["B-then-meter", "meter-then-B"])
def test_state_b_after_a_kiosk_stop_is_not_parking(tmp_path: Path, controller_first: bool) -> None:
    # A hold of 3,00 stops charging at 2,00 (the cap); the kiosk switches off, the vehicle
    # reports B, and the final reading is billed: with energy only, never a parking minute.
    r = Rig(tmp_path, tariff=json.loads(SAMPLE_TARIFF.read_text()), hold_minor=300)
    settles: list[SettleCard] = []
    dispatch = r.rt._executor.dispatch

    def record(command: object, command_id: int) -> None:
        if isinstance(command, SettleCard):
            settles.append(command)
        else:
            dispatch(command, command_id)  # type: ignore[arg-type]

    r.rt._executor.dispatch = record  # type: ignore[method-assign]
    try:
        rt = r.rt
        rt.handle(ev.ControllerUpdate(at(0), "1", controller(IecState.B, 0)))
        rt.handle(ev.MeterUpdate(at(0), "1", reading(10_000, 0)))
        rt.handle(ev.ConnectorChosen(at(1), "1", SID, rt.offers["1"]))
        rt.handle(ev.IntentReceived(at(1), ConfirmPrice(SID)))
        rt.handle(ev.IntentReceived(at(1), PayByCard(SID)))
        rt.handle(ev.PreauthDone(at(1), SID, card(amount=300)))
        rt.handle(ev.ControllerUpdate(at(2), "1", controller(IecState.C, 2, enabled=True)))
        rt.handle(ev.MeterUpdate(at(3), "1", reading(12_000, 3)))  # 1,18 + 0,49 = 1,67
        rt.handle(ev.MeterUpdate(at(4), "1", reading(12_600, 4)))  # 2,02: the cap stops it
        session = rt.station.session(SID)
        assert session is not None and session.phase is Phase.STOPPING
        b = ev.ControllerUpdate(at(4.5), "1", controller(IecState.B, 4.5))
        final = ev.MeterUpdate(at(5), "1", reading(12_600, 5))
        for event in (b, final) if controller_first else (final, b):
            rt.handle(event)
        rt.handle(ev.ChargingSwitched(at(5.1), "1", SID, enabled=False, ok=True))
        rt.handle(ev.MeterUpdate(at(6), "1", reading(12_600, 6)))
        (settle,) = settles
        assert settle.final_minor == 202
        session = rt.station.session(SID)
        assert session is not None
        assert "parking" not in [line.component for line in session.cost_lines]
    finally:
        r.journal.close()
