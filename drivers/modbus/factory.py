"""Build meter and controller drivers from a station config's device settings.

For the composition root: `[meters.left]` with `model = "sdm630"` and settings such as
`port = "/dev/ttyUSB0"`, `unit = 1`, `baudrate = 9600`, `parity = "N"`, `stopbits = 1`,
`timeout_s = 0.5`, `gap_ms = 50`, `max_age_s = 2`, `max_power_w = 22000` (meters) or
`reassert_s` is taken from the profile (controllers). Devices on the same port get the same
bus owner from the registry passed in. Bad settings raise ValueError naming the key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime

from drivers.charger.controller_map import controller_spec
from drivers.charger.modbus_controller import ModbusChargeController
from drivers.meter.modbus_meter import ModbusMeter
from drivers.modbus.bus import BusRegistry, DeviceLink, RetryPolicy
from drivers.modbus.endpoint import SerialSettings, parse_port
from drivers.modbus.health import utc_now
from drivers.modbus.registermap import RegisterMap, load_map

_COMMON = {"port", "profile", "unit", "baudrate", "parity", "stopbits", "timeout_s", "gap_ms"}
_METER = {"max_age_s", "max_power_w"}


def _number(
    name: str, settings: Mapping[str, object], key: str, default: float, maximum: float
) -> float:
    value = settings.get(key, default)
    # `not 0 < value <= maximum` also refuses nan and inf (inf overflowed pymodbus's deadline).
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= maximum:
        raise ValueError(
            f"{name}.{key}: must be a positive number up to {maximum:g}, not {value!r}"
        )
    return float(value)


def _link(
    name: str,
    model: str | None,
    settings: Mapping[str, object],
    registry: BusRegistry,
    *,
    kind: str,
    allowed: set[str],
    clock: Callable[[], float],
) -> tuple[RegisterMap, DeviceLink]:
    unknown = set(settings) - allowed
    if unknown:
        raise ValueError(f"{name}: unknown setting(s) {', '.join(sorted(unknown))}")
    profile = model or settings.get("profile")
    if not isinstance(profile, str):
        raise ValueError(f"{name}.model: name the device model (e.g. sdm630) or a map file")
    regmap = load_map(profile)
    if regmap.kind != kind:
        raise ValueError(f"{name}.model: {profile!r} is a {regmap.kind} profile, not a {kind}")
    port = settings.get("port")
    if not isinstance(port, str):
        raise ValueError(
            f"{name}.port: give a serial device, socket://HOST:PORT or tcp://HOST:PORT"
        )
    try:
        endpoint = parse_port(port)
        serial = SerialSettings(
            baudrate=int(str(settings.get("baudrate", regmap.comms.baudrate))),
            parity=str(settings.get("parity", regmap.comms.parity)),
            stopbits=int(str(settings.get("stopbits", regmap.comms.stopbits))),
        )
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc
    unit = settings.get("unit", regmap.comms.unit)
    if isinstance(unit, bool) or not isinstance(unit, int) or not 0 <= unit <= 255:
        raise ValueError(f"{name}.unit: must be an integer 0..255, not {unit!r}")
    timeout = _number(name, settings, "timeout_s", regmap.comms.timeout_s, 3600)
    gap_ms = settings.get("gap_ms", regmap.comms.gap_s * 1000)
    if isinstance(gap_ms, bool) or not isinstance(gap_ms, int | float) or gap_ms < 0:
        raise ValueError(f"{name}.gap_ms: must be a number >= 0, not {gap_ms!r}")
    bus = registry.open(endpoint, serial, policy=RetryPolicy(timeout_s=timeout), clock=clock)
    return regmap, DeviceLink(bus, unit, float(gap_ms) / 1000)


def build_meter(
    name: str,
    model: str | None,
    settings: Mapping[str, object],
    registry: BusRegistry,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], datetime] = utc_now,
) -> ModbusMeter:
    regmap, link = _link(
        name, model, settings, registry, kind="meter", allowed=_COMMON | _METER, clock=clock
    )
    return ModbusMeter(
        link,
        regmap,
        name=name,
        max_age_s=_number(name, settings, "max_age_s", 2.0, 3600),
        max_power_w=_number(name, settings, "max_power_w", 70_000.0, 1e7),
        clock=clock,
        wall=wall,
    )


def build_controller(
    name: str,
    model: str | None,
    settings: Mapping[str, object],
    registry: BusRegistry,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], datetime] = utc_now,
) -> ModbusChargeController:
    regmap, link = _link(
        name, model, settings, registry, kind="charger", allowed=_COMMON, clock=clock
    )
    return ModbusChargeController(link, controller_spec(regmap), name=name, clock=clock, wall=wall)
