"""The meter driver against the simulated SDM630 over real TCP, RTU on a pty, and RTU over TCP."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import drivers.modbus as modbus_pkg
from drivers.meter.modbus_meter import ModbusMeter
from drivers.modbus.bus import ModbusBus, RetryPolicy
from drivers.modbus.errors import ModbusExceptionReply
from drivers.modbus.registermap import load_map
from drivers.modbus_sim import Fault, SimStation
from kiosk.devices import (
    DeviceHealth,
    DeviceProtocolError,
    DeviceTimeout,
    EnergyMeter,
    ImplausibleReading,
)

from .conftest import FakeClock, link_to

Opener = Callable[..., ModbusBus]
Starter = Callable[..., SimStation]


def meter_for(
    station: SimStation, open_bus: Opener, profile: str = "sdm630", **kw: object
) -> ModbusMeter:
    assert station.meter is not None
    bus = open_bus(station.meter_port)
    return ModbusMeter(link_to(bus, station.meter.unit), load_map(profile), **kw)  # type: ignore[arg-type]


def test_reading_over_each_transport(
    transport: str, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport=transport, controller_profile=None)
    meter = meter_for(station, open_bus)
    assert isinstance(meter, EnergyMeter)
    reading = meter.read()
    assert reading.energy_import_wh == 12_345_678
    assert reading.energy_export_wh == 12_345
    assert reading.voltage_v == pytest.approx((230.1, 229.8, 230.4), abs=1e-3)
    assert reading.current_a == (0.0, 0.0, 0.0)
    assert reading.frequency_hz == 50.0
    assert reading.power_w == 0.0
    assert reading.measured_at.utcoffset() is not None
    assert meter.health.state is DeviceHealth.OK
    assert meter._reader.requests_per_pass == 1  # the whole snapshot in one block


@pytest.mark.parametrize("profile", ["sdm72d-m", "sdm120", "em340", "abb-b23", "wm3m4c"])
def test_other_models_round_trip_through_their_simulators(
    profile: str, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(meter_profile=profile, controller_profile=None)
    reading = meter_for(station, open_bus, profile).read()
    assert reading.energy_import_wh == pytest.approx(12_345_678, abs=100)


def test_energy_follows_the_charging_model(start_station: Starter, open_bus: Opener) -> None:
    clock = FakeClock()
    station = start_station(controller_profile=None, clock=clock)
    meter = meter_for(station, open_bus, clock=clock)
    first = meter.read()
    station.plug_in(0.3)
    station.model.set_enabled(True)
    clock.advance(360)
    second = meter.read()
    assert second.energy_import_wh - first.energy_import_wh == pytest.approx(1100, abs=2)
    assert second.power_w == pytest.approx(11_000)
    assert sum(second.current_a) == pytest.approx(11_000 / 230.1, rel=0.01)


def test_wm3m4c_live_values_follow_the_charging_model(
    start_station: Starter, open_bus: Opener
) -> None:
    clock = FakeClock()
    station = start_station(meter_profile="wm3m4c", controller_profile=None, clock=clock)
    meter = meter_for(station, open_bus, "wm3m4c", clock=clock)
    first = meter.read()
    station.plug_in(0.3)
    station.model.set_enabled(True)
    clock.advance(360)
    second = meter.read()
    assert second.energy_import_wh - first.energy_import_wh == pytest.approx(1100, abs=2)
    assert second.power_w == pytest.approx(11_000)
    assert second.voltage_v == pytest.approx((230.1, 229.8, 230.4), abs=1e-3)
    assert second.frequency_hz == pytest.approx(50.0)
    assert meter.requests_per_pass == 5  # no block spans an undocumented register


FAULT_TRANSPORTS = ["tcp", "pty"]


@pytest.mark.parametrize("transport", FAULT_TRANSPORTS)
def test_silence_is_a_timeout_then_offline_never_a_frozen_value(
    transport: str, start_station: Starter, open_bus: Opener
) -> None:
    clock = FakeClock()
    station = start_station(transport=transport, controller_profile=None)
    meter = meter_for(station, open_bus, clock=clock)
    meter.read()
    station.inject("meter", Fault.SILENCE)
    for _ in range(3):
        with pytest.raises(DeviceTimeout, match="nothing answered: check the unit id"):
            meter.read()
    report = meter.health_report()
    assert report.state is DeviceHealth.OFFLINE
    assert report.since is not None and "nothing answered" in (report.last_error or "")
    assert "offline since" in report.describe()
    # Backing off: no bus traffic until the backoff has passed.
    with pytest.raises(DeviceTimeout, match="is offline"):
        meter.read()
    station.clear_faults()
    clock.advance(1.0)
    assert meter.read().energy_import_wh == 12_345_678
    assert meter.health.state is DeviceHealth.OK


@pytest.mark.parametrize("transport", FAULT_TRANSPORTS)
def test_one_lost_reply_is_retried_and_shows_as_degraded(
    transport: str, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport=transport, controller_profile=None)
    meter = meter_for(station, open_bus)
    station.inject("meter", Fault.SILENCE, count=1)
    assert meter.read().energy_import_wh == 12_345_678
    assert meter.health.state is DeviceHealth.DEGRADED
    assert meter.health_report().retries_total == 1


@pytest.mark.parametrize("transport", FAULT_TRANSPORTS)
@pytest.mark.parametrize("fault", [Fault.GARBAGE, Fault.CRC])
def test_garbled_replies_are_protocol_errors(
    transport: str, fault: Fault, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport=transport, controller_profile=None)
    meter = meter_for(station, open_bus)
    station.inject("meter", fault)
    with pytest.raises(DeviceProtocolError, match="no valid") as info:
        meter.read()
    if transport == "pty":
        assert "check baud rate and parity" in str(info.value)
    assert meter.health.state is DeviceHealth.DEGRADED


@pytest.mark.parametrize("transport", FAULT_TRANSPORTS)
def test_exception_reply_is_not_retried(
    transport: str, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport=transport, controller_profile=None)
    meter = meter_for(station, open_bus)
    station.inject("meter", Fault.EXCEPTION, count=1)
    with pytest.raises(ModbusExceptionReply, match="server device failure") as info:
        meter.read()
    assert info.value.code == 4
    assert station.meter is not None and station.meter.requests == 1
    assert meter.read().energy_import_wh == 12_345_678


@pytest.mark.parametrize("transport", FAULT_TRANSPORTS)
def test_slow_reply_is_refused_as_stale(
    transport: str, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport=transport, controller_profile=None)
    meter = meter_for(station, open_bus, max_age_s=0.1)
    station.inject("meter", Fault.SLOW, count=1, delay_s=0.15)
    with pytest.raises(DeviceTimeout, match="refused as stale"):
        meter.read()  # the reply waited 0.15 s at least: always older than 0.1 s
    meter.max_age_s = 30.0  # the next pass is not slowed; on a busy machine it may still take 0.1 s
    assert meter.read().energy_import_wh == 12_345_678


@pytest.mark.parametrize("transport", FAULT_TRANSPORTS)
def test_reply_slower_than_the_timeout_is_a_timeout(
    transport: str, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport=transport, controller_profile=None)
    assert station.meter is not None
    bus = open_bus(station.meter_port, RetryPolicy(attempts=1, timeout_s=0.1))
    meter = ModbusMeter(link_to(bus, station.meter.unit), load_map("sdm630"))
    station.inject("meter", Fault.SLOW, count=1, delay_s=0.3)
    with pytest.raises(DeviceTimeout):
        meter.read()


@pytest.mark.parametrize("transport", FAULT_TRANSPORTS)
def test_no_value_markers_are_not_numbers(
    transport: str, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport=transport, controller_profile=None)
    meter = meter_for(station, open_bus)
    station.inject("meter", Fault.NO_VALUE)
    with pytest.raises(DeviceProtocolError, match="import energy register reads 'no value'"):
        meter.read()


@pytest.mark.parametrize("transport", FAULT_TRANSPORTS)
def test_refused_block_falls_back_to_single_registers(
    transport: str, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport=transport, controller_profile=None)
    meter = meter_for(station, open_bus)
    station.inject("meter", Fault.BLOCK_REFUSED)
    reading = meter.read()
    assert reading.energy_import_wh == 12_345_678
    assert reading.voltage_v == pytest.approx((230.1, 229.8, 230.4), abs=1e-3)
    assert meter._reader.requests_per_pass == 13


@pytest.mark.parametrize("transport", FAULT_TRANSPORTS)
def test_block_across_undocumented_addresses_falls_back_to_hole_free_blocks(
    transport: str, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport=transport, controller_profile=None)
    meter = meter_for(station, open_bus)
    station.inject("meter", Fault.HOLES_REFUSED)
    reading = meter.read()
    assert reading.energy_import_wh == 12_345_678
    assert reading.power_w == 0.0 and reading.frequency_hz == 50.0
    assert meter._reader.requests_per_pass == 3  # 0..17, 52..53, 70..75
    assert station.meter is not None
    before = station.meter.requests
    meter.read()
    assert station.meter.requests - before == 3  # the finer plan is kept, no refused request


def test_a_refused_single_register_is_missing_not_fatal(
    start_station: Starter, open_bus: Opener, tmp_path: Path
) -> None:
    data = json.loads((Path(modbus_pkg.__file__).parent / "maps" / "sdm72d-m.json").read_text())
    data["registers"]["voltage_l1"] = {"address": 0, "function": 4, "type": "float32", "unit": "V"}
    path = tmp_path / "sdm72-with-voltage.json"
    path.write_text(json.dumps(data))
    station = start_station(meter_profile="sdm72d-m", controller_profile=None)
    reading = meter_for(station, open_bus, str(path)).read()
    assert reading.energy_import_wh == 12_345_678
    assert len(reading.voltage_v) == 1 and reading.voltage_v[0] != reading.voltage_v[0]  # NaN


@pytest.mark.parametrize("transport", FAULT_TRANSPORTS)
def test_counter_reset_is_an_event_not_a_bill(
    transport: str, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport=transport, controller_profile=None)
    meter = meter_for(station, open_bus)
    meter.read()
    station.inject("meter", Fault.COUNTER_RESET)
    with pytest.raises(ImplausibleReading, match="went back from 12345678 Wh to 0 Wh"):
        meter.read()
    assert [e.kind for e in meter.guard.events] == ["reset"]
    assert meter.read().energy_import_wh == 0  # re-based: later readings are usable again


def test_wrong_word_order_is_suspected_from_absurd_values(
    tmp_path: Path, start_station: Starter, open_bus: Opener
) -> None:
    data = json.loads((Path(modbus_pkg.__file__).parent / "maps" / "sdm630.json").read_text())
    for register in data["registers"].values():
        register["word_order"] = "little"
    path = tmp_path / "sdm630-swapped.json"
    path.write_text(json.dumps(data))
    station = start_station(controller_profile=None)
    meter = meter_for(station, open_bus, str(path))
    with pytest.raises(ImplausibleReading, match="wrong word order suspected"):
        meter.read()


def test_wrong_unit_id_on_rtu_is_silence(start_station: Starter, open_bus: Opener) -> None:
    station = start_station(transport="pty", controller_profile=None)
    bus = open_bus(station.meter_port)
    meter = ModbusMeter(link_to(bus, 9), load_map("sdm630"))
    with pytest.raises(DeviceTimeout, match=r"unit 9 .* nothing answered: check the unit id"):
        meter.read()


@pytest.mark.parametrize("transport", ["tcp", "pty", "rtu-tcp"])
@pytest.mark.parametrize("fault", [Fault.GARBAGE, Fault.CRC, Fault.SLOW])
def test_the_link_recovers_after_a_fault(
    transport: str, fault: Fault, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport=transport, controller_profile=None)
    meter = meter_for(station, open_bus)
    meter.read()
    station.inject("meter", fault, count=2, delay_s=0.4)
    if fault is Fault.SLOW:
        # Late replies: a TCP retry may still catch its own reply; either way no stale value.
        try:
            reading = meter.read()
        except DeviceTimeout:
            pass
        else:
            assert reading.energy_import_wh == 12_345_678
    else:
        with pytest.raises(DeviceProtocolError):
            meter.read()
    station.clear_faults()
    for _ in range(3):  # leftovers of the fault never shift later replies
        reading = meter.read()
        assert reading.energy_import_wh == 12_345_678
        assert reading.voltage_v == pytest.approx((230.1, 229.8, 230.4), abs=1e-3)


def test_frozen_meter_while_power_flows_is_an_event(
    start_station: Starter, open_bus: Opener
) -> None:
    clock = FakeClock()
    station = start_station(transport="pty", controller_profile=None, clock=clock)
    meter = meter_for(station, open_bus, clock=clock)
    station.plug_in(0.3)
    station.model.set_enabled(True)
    meter.read()
    station.inject("meter", Fault.FROZEN)
    frozen = meter.read().energy_import_wh
    clock.advance(60)
    assert meter.read().energy_import_wh == frozen  # not yet suspicious
    clock.advance(61)
    with pytest.raises(ImplausibleReading, match=r"stuck at .* while the meter reports 11000 W"):
        meter.read()
    assert meter.guard.events[-1].kind == "frozen"
    station.clear_faults()
    assert meter.read().energy_import_wh == pytest.approx(frozen + 11_000 * 121 / 3600, abs=2)


def test_a_still_counter_without_power_is_fine(start_station: Starter, open_bus: Opener) -> None:
    clock = FakeClock()
    station = start_station(controller_profile=None, clock=clock)
    meter = meter_for(station, open_bus, clock=clock)
    for _ in range(5):
        assert meter.read().energy_import_wh == 12_345_678
        clock.advance(600)
