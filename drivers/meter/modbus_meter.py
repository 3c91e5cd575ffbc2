"""An energy meter on Modbus (RTU, RTU gateway or TCP), driven by a register map file.

`ModbusMeter.read()` reads the map's registers (block-wise, see drivers.modbus.planner), and
returns a `MeterReading` stamped with the UTC time the energy register's reply arrived. It never
returns an old or made-up value: a pass that took longer than `max_age_s` is refused as stale,
"no value" markers stay None (a missing import counter is an error), values outside the map's
plausible range are refused with a hint about word order, and the import counter is checked for
resets and jumps. Every outcome is recorded in `health` for the runtime and `evkiosk doctor`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from drivers.meter.plausibility import EnergyCounterGuard
from drivers.modbus.bus import DeviceLink
from drivers.modbus.health import HealthReport, HealthTracker, utc_now
from drivers.modbus.planner import BlockReader, Snapshot
from drivers.modbus.registermap import UNITS, RegisterMap
from kiosk.devices import (
    DeviceError,
    DeviceProtocolError,
    DeviceTimeout,
    ImplausibleReading,
    MeterReading,
)

PHASES = ("l1", "l2", "l3")


class ModbusMeter:
    """Implements kiosk.devices.EnergyMeter."""

    def __init__(
        self,
        link: DeviceLink,
        regmap: RegisterMap,
        *,
        name: str | None = None,
        max_age_s: float = 2.0,
        max_power_w: float = 70_000.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = utc_now,
    ) -> None:
        if regmap.kind != "meter":
            raise ValueError(f"profile {regmap.model!r} describes a {regmap.kind}, not a meter")
        if "energy_import" not in regmap.registers:
            raise ValueError(f"profile {regmap.model!r} has no energy_import register")
        self.link = link
        self.regmap = regmap
        self.max_age_s = max_age_s
        self._clock = clock
        self._wall = wall
        self._reader = BlockReader(link, regmap.registers.values(), regmap.limits, clock)
        self.guard = EnergyCounterGuard(max_power_w)
        label = name or f"meter {regmap.model} unit {link.unit} on {link.bus.describe()}"
        self.health = HealthTracker(label, clock=clock, wall=wall)

    def health_report(self) -> HealthReport:
        return self.health.report()

    @property
    def requests_per_pass(self) -> int:
        """Modbus requests one reading takes with the current block plan."""
        return self._reader.requests_per_pass

    def read(self) -> MeterReading:
        self.health.may_try()
        self.link.bus.prepare()
        started = self._clock()
        try:
            snap = self._reader.read()
            reading = self._build(snap, started)
        except DeviceError as exc:
            self.health.failure(exc)
            raise
        self.health.success(snap.retries)
        return reading

    def _build(self, snap: Snapshot, started: float) -> MeterReading:
        now = self._clock()
        if now - started > self.max_age_s:
            raise DeviceTimeout(
                f"{self.health.name}: reading took {now - started:.2f} s, longer than the "
                f"{self.max_age_s:.2f} s a reading may be old: refused as stale (slow replies; "
                "check the inter-request gap, timeout and bus load)"
            )
        values = snap.values
        self._check_ranges(values)
        energy = values.get("energy_import")
        if energy is None:
            why = "was refused" if "energy_import" in snap.missing else "reads 'no value'"
            raise DeviceProtocolError(
                f"{self.health.name}: the import energy register {why}: no counter to bill from"
            )
        # Stamp with the wall time matching the last reply: the values were measured then.
        measured_at = self._wall() - timedelta(seconds=max(0.0, now - snap.last_reply))
        power = values.get("power_total")
        if power is None:
            per_phase = [values.get(f"power_{p}") for p in PHASES if f"power_{p}" in values]
            known = [p for p in per_phase if p is not None]
            power = sum(known) if known and len(known) == len(per_phase) else None
        energy_wh = self.guard.check(round(energy), snap.last_reply, power)
        export = values.get("energy_export")
        return MeterReading(
            measured_at=measured_at,
            energy_import_wh=energy_wh,
            power_w=power,
            voltage_v=self._phases(values, "voltage"),
            current_a=self._phases(values, "current"),
            frequency_hz=values.get("frequency"),
            energy_export_wh=None if export is None else round(export),
        )

    def _phases(self, values: dict[str, float | None], quantity: str) -> tuple[float, ...]:
        names = [f"{quantity}_{p}" for p in PHASES if f"{quantity}_{p}" in self.regmap.registers]
        found = [values.get(name) for name in names]
        # "No value" on a phase shows as NaN on screen, never as 0.
        return tuple(float("nan") if v is None else v for v in found)

    def _check_ranges(self, values: dict[str, float | None]) -> None:
        absurd = []
        for name, value in values.items():
            spec = self.regmap.registers[name]
            if value is None or spec.valid is None:
                continue
            lo, hi = spec.valid
            factor = UNITS[spec.unit][1]
            if not lo * factor <= value <= hi * factor:
                absurd.append(f"{name} = {value:.6g} {spec.base_unit}")
        if absurd:
            order = {s.word_order for s in self.regmap.registers.values()}
            raise ImplausibleReading(
                f"{self.health.name}: implausible values ({'; '.join(absurd)}): wrong word "
                f"order suspected (profile uses {'/'.join(sorted(order))}), or the profile does "
                "not match this meter model"
            )
