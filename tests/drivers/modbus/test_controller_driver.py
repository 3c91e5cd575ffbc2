"""The charge-controller driver against simulated Phoenix and Bender controllers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from drivers.charger.controller_map import controller_spec
from drivers.charger.modbus_controller import ModbusChargeController
from drivers.meter.modbus_meter import ModbusMeter
from drivers.modbus.bus import ModbusBus
from drivers.modbus.errors import LinkDown
from drivers.modbus.registermap import MapError, load_map
from drivers.modbus_sim import Fault, SimStation
from kiosk.devices import (
    ChargeController,
    DeviceHealth,
    DeviceProtocolError,
    DeviceTimeout,
    IecState,
)

from .conftest import FakeClock, link_to

Opener = Callable[..., ModbusBus]
Starter = Callable[..., SimStation]

# Each controller model on the transport it is sold with (and the RTU one on a shared line).
CASES = [("phoenix-ev-eth", "tcp"), ("phoenix-ev-ser", "pty"), ("bender-cc612", "rtu-tcp")]


def controller_for(
    station: SimStation, open_bus: Opener, profile: str, **kw: object
) -> ModbusChargeController:
    assert station.controller is not None
    bus = open_bus(station.controller_port)
    spec = controller_spec(load_map(profile))
    return ModbusChargeController(link_to(bus, station.controller.unit), spec, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("profile", "transport"), CASES)
def test_states_follow_plug_and_enable(
    profile: str, transport: str, start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport=transport, controller_profile=profile)
    controller = controller_for(station, open_bus, profile)
    assert isinstance(controller, ChargeController)
    status = controller.status()
    assert (status.state, status.charging_enabled) == (IecState.A, False)
    station.plug_in(0.4)
    assert controller.status().state is IecState.B
    controller.set_current_limit(16)
    controller.enable_charging(True)
    status = controller.status()
    assert (status.state, status.charging_enabled, status.current_limit_a) == (IecState.C, True, 16)
    assert station.model.enabled
    controller.enable_charging(False)
    status = controller.status()
    assert (status.state, status.charging_enabled) == (IecState.B, False)
    assert not station.model.enabled
    station.unplug()
    assert controller.status().state is IecState.A


def test_raw_state_is_kept(start_station: Starter, open_bus: Opener) -> None:
    station = start_station(transport="pty", controller_profile="phoenix-ev-ser")
    controller = controller_for(station, open_bus, "phoenix-ev-ser")
    station.plug_in()
    assert controller.status().raw_state == "B1"
    controller.set_current_limit(10)
    controller.enable_charging(True)
    assert controller.status().raw_state == "C2"
    station.set_ev(soc=1.0)
    assert controller.status().raw_state == "B2"


@pytest.mark.parametrize(("letter", "profile"), [("E", "bender-cc612"), ("F", "phoenix-ev-eth")])
def test_error_states(letter: str, profile: str, start_station: Starter, open_bus: Opener) -> None:
    station = start_station(controller_profile=profile)
    controller = controller_for(station, open_bus, profile)
    station.set_controller_error(letter)
    status = controller.status()
    assert status.state is IecState(letter)
    assert status.state.is_error
    if profile == "bender-cc612":
        assert status.error_flags == {"vehicle_state_e"}


def test_energy_flows_only_while_enabled_and_plugged(
    start_station: Starter, open_bus: Opener
) -> None:
    clock = FakeClock()
    station = start_station(transport="pty", controller_profile="phoenix-ev-ser", clock=clock)
    assert station.meter is not None
    controller = controller_for(station, open_bus, "phoenix-ev-ser", clock=clock)
    # Same RS485 line: the meter goes through the controller's bus owner.
    bus = controller.link.bus
    meter = ModbusMeter(link_to(bus, station.meter.unit), load_map("sdm630"), clock=clock)
    start = meter.read().energy_import_wh
    station.plug_in(0.3)
    clock.advance(600)
    assert meter.read().energy_import_wh == start  # plugged, not enabled
    controller.set_current_limit(16)
    controller.enable_charging(True)
    clock.advance(360)
    charged = meter.read().energy_import_wh
    assert charged - start == pytest.approx(1100, abs=2)
    controller.enable_charging(False)
    clock.advance(600)
    assert meter.read().energy_import_wh == charged


def test_setpoint_is_reasserted_before_the_watchdog(
    start_station: Starter, open_bus: Opener
) -> None:
    clock = FakeClock()
    station = start_station(controller_profile="phoenix-ev-eth", clock=clock, watchdog_s=60)
    controller = controller_for(station, open_bus, "phoenix-ev-eth", clock=clock)
    controller.set_current_limit(16)
    assert station.model.current_writes == 1
    for _ in range(10):  # ten minutes of polling every 20 s
        clock.advance(20)
        controller.status()
        assert not station.model.fallback_active
    assert station.model.current_writes == 6  # at 40, 80, ... 200 s: never 60 s apart
    assert controller.keepalive() is False  # written less than reassert_s ago
    clock.advance(61)  # the kiosk went quiet: the controller falls back
    assert station.model.fallback_active


def test_current_limit_outside_the_controller_range_is_refused(
    start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(controller_profile="phoenix-ev-eth")
    controller = controller_for(station, open_bus, "phoenix-ev-eth")
    with pytest.raises(ValueError, match=r"current limit 5 A is outside 6..63 A"):
        controller.set_current_limit(5)
    assert station.model.current_writes == 0


def test_bender_enables_by_writing_the_current(start_station: Starter, open_bus: Opener) -> None:
    station = start_station(controller_profile="bender-cc612")
    controller = controller_for(station, open_bus, "bender-cc612")
    with pytest.raises(DeviceProtocolError, match="set a current limit before enabling"):
        controller.enable_charging(True)
    controller.enable_charging(False)
    controller.set_current_limit(20)  # disabled: stored, the controller stays at 0 A
    assert controller.status().current_limit_a == 0
    controller.enable_charging(True)
    assert controller.status().current_limit_a == 20
    assert station.model.current_limit_a == 20


def test_disable_goes_ahead_when_setup_fails(start_station: Starter, open_bus: Opener) -> None:
    station = start_station(transport="pty", controller_profile="phoenix-ev-ser")
    first = controller_for(station, open_bus, "phoenix-ev-ser")
    station.plug_in()
    first.set_current_limit(16)
    first.enable_charging(True)
    assert station.model.enabled
    # A fresh driver (after a restart) has not done its setup writes yet; the first fails.
    restarted = ModbusChargeController(first.link, first.spec)
    station.inject("controller", Fault.EXCEPTION, count=1)
    restarted.enable_charging(False)
    assert not station.model.enabled


def test_controller_silence_surfaces_as_health(start_station: Starter, open_bus: Opener) -> None:
    station = start_station(controller_profile="phoenix-ev-eth")
    controller = controller_for(station, open_bus, "phoenix-ev-eth")
    station.inject("controller", Fault.SILENCE)
    with pytest.raises(DeviceTimeout):
        controller.status()
    assert controller.health.state is DeviceHealth.DEGRADED
    assert "nothing answered" in (controller.health_report().last_error or "")


def test_a_second_owner_cannot_open_the_same_serial_line(
    start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(transport="pty", controller_profile="phoenix-ev-ser")
    controller = controller_for(station, open_bus, "phoenix-ev-ser")
    controller.status()
    second = open_bus(station.meter_port)
    with pytest.raises(LinkDown, match="no other program holds it"):
        link_to(second, 1).read_registers(4, 72, 2)


@pytest.mark.parametrize("transport", ["tcp", "pty"])
@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.SILENCE, DeviceTimeout),
        (Fault.GARBAGE, DeviceProtocolError),
        (Fault.CRC, DeviceProtocolError),
        (Fault.EXCEPTION, DeviceProtocolError),
    ],
)
def test_controller_faults_are_device_errors_and_it_recovers(
    transport: str,
    fault: Fault,
    error: type[Exception],
    start_station: Starter,
    open_bus: Opener,
) -> None:
    profile = "phoenix-ev-eth" if transport == "tcp" else "phoenix-ev-ser"
    station = start_station(transport=transport, controller_profile=profile)
    controller = controller_for(station, open_bus, profile)
    station.plug_in()
    station.inject("controller", fault)
    with pytest.raises(error):
        controller.status()
    with pytest.raises(error):
        controller.set_current_limit(16)
    assert controller.health_report().consecutive_failures == 2
    station.clear_faults()
    controller.set_current_limit(16)
    controller.enable_charging(True)
    assert controller.status().state is IecState.C
    assert controller.health.state is DeviceHealth.OK


@pytest.mark.parametrize("transport", ["tcp", "pty"])
def test_disable_survives_a_lost_reply(
    transport: str, start_station: Starter, open_bus: Opener
) -> None:
    profile = "phoenix-ev-eth" if transport == "tcp" else "phoenix-ev-ser"
    station = start_station(transport=transport, controller_profile=profile)
    controller = controller_for(station, open_bus, profile)
    station.plug_in()
    controller.set_current_limit(16)
    controller.enable_charging(True)
    station.inject("controller", Fault.SILENCE, count=1)
    controller.enable_charging(False)
    assert not station.model.enabled
    assert controller.health.state is DeviceHealth.DEGRADED  # it took a retry


def test_idle_status_reads_the_state_and_rereads_the_settings_only_when_due(
    start_station: Starter, open_bus: Opener
) -> None:
    # settings_refresh_s in the map: the enable coil and the current setpoint (which only the
    # kiosk's writes change) are read again after 30 s, a change of state, a write or a failure;
    # the state itself on every status, so a car plugging in is seen at the next poll.
    clock = FakeClock()
    station = start_station(controller_profile="phoenix-ev-eth", clock=clock)
    controller = controller_for(station, open_bus, "phoenix-ev-eth", clock=clock)
    assert controller.spec.settings_refresh_s == 30
    device = station.controller
    assert device is not None

    def requests_for_status() -> int:
        before = device.requests
        controller.status()
        return device.requests - before

    assert requests_for_status() == 3  # state, current limit, enable coil
    for _ in range(5):
        clock.advance(1)
        assert requests_for_status() == 1  # the state alone
    station.model.write_current(20)  # changed behind the kiosk's back (a controller restart)
    clock.advance(1)
    assert controller.status().current_limit_a == 16  # as read at most 30 s ago
    clock.advance(30)
    assert controller.status().current_limit_a == 20
    clock.advance(1)
    station.plug_in(0.4)
    before = device.requests
    status = controller.status()
    assert status.state is IecState.B  # seen at the first poll after plugging in
    assert device.requests - before == 3  # and the settings with it
    controller.set_current_limit(16)
    controller.enable_charging(True)
    status = controller.status()
    assert (status.state, status.charging_enabled, status.current_limit_a) == (IecState.C, True, 16)
    assert requests_for_status() == 1
    station.inject("controller", Fault.EXCEPTION, count=1)
    with pytest.raises(DeviceProtocolError):
        controller.status()
    assert requests_for_status() == 3  # after a failure everything is read again


def test_a_map_without_settings_refresh_reads_everything_on_every_status(
    start_station: Starter, open_bus: Opener
) -> None:
    station = start_station(controller_profile="phoenix-ev-eth")
    controller = controller_for(station, open_bus, "phoenix-ev-eth")
    controller.spec = replace(controller.spec, settings_refresh_s=None)
    device = station.controller
    assert device is not None
    controller.status()
    before = device.requests
    controller.status()
    assert device.requests - before == 3


def test_settings_refresh_must_be_positive() -> None:
    regmap = load_map("phoenix-ev-eth")
    section = dict(regmap.extra["controller"], settings_refresh_s=0)
    broken = replace(regmap, extra={**regmap.extra, "controller": section})
    with pytest.raises(MapError, match=r"controller\.settings_refresh_s: must be null or positive"):
        controller_spec(broken)
