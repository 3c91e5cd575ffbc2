"""Drivers built from station config settings: shared bus owners, named errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from drivers.modbus.bus import BusRegistry
from drivers.modbus.factory import build_controller, build_meter
from drivers.modbus_sim import SimStation
from kiosk.devices import IecState

Starter = Callable[..., SimStation]


@pytest.fixture
def registry() -> Iterator[BusRegistry]:
    reg = BusRegistry()
    yield reg
    reg.close_all()


def test_meter_and_controller_on_one_line_share_the_owner(
    start_station: Starter, registry: BusRegistry
) -> None:
    station = start_station(transport="pty", controller_profile="phoenix-ev-ser")
    assert station.meter is not None and station.controller is not None
    meter = build_meter(
        "meters.left", "sdm630", {"port": station.meter_port, "unit": station.meter.unit}, registry
    )
    controller = build_controller(
        "controllers.left",
        "phoenix-ev-ser",
        {"port": station.controller_port, "unit": station.controller.unit, "gap_ms": 0},
        registry,
    )
    assert meter.link.bus is controller.link.bus
    assert meter.link.gap_s == pytest.approx(0.05)  # the profile's gap
    assert meter.read().energy_import_wh == 12_345_678
    assert controller.status().state is IecState.A
    assert meter.health_report().name == "meters.left"


@pytest.mark.parametrize(
    ("model", "settings", "message"),
    [
        ("sdm630", {}, "meters.x.port: give a serial device"),
        ("sdm630", {"port": "tcp://h:1", "unit": 999}, "meters.x.unit: must be an integer 0..255"),
        ("sdm630", {"port": "tcp://h:1", "colour": "red"}, "unknown setting(s) colour"),
        ("sdm630", {"port": "/dev/ttyS0", "parity": "X"}, "meters.x: parity 'X'"),
        ("sdm630", {"port": "tcp://h:1", "max_age_s": 0}, "meters.x.max_age_s: must be a positive"),
        ("phoenix-ev-eth", {"port": "tcp://h:1"}, "is a charger profile, not a meter"),
        (None, {"port": "tcp://h:1"}, "meters.x.model: name the device model"),
    ],
)
def test_bad_settings_are_named(
    model: str | None, settings: dict[str, object], message: str, registry: BusRegistry
) -> None:
    with pytest.raises(ValueError) as info:
        build_meter("meters.x", model, settings, registry)
    assert message in str(info.value)
