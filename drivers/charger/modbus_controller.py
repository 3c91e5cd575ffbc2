"""A charge controller on Modbus, driven by a charger map (see controller_map).

`status()` reads the connector state and normalises it to IEC 61851 (the raw value is kept),
plus whether charging is enabled, the current setpoint and error flags. `set_current_limit()`
remembers the setpoint and writes it; the driver writes it again whenever `reassert_s` has
passed (checked on every call and by `keepalive()`, which the owner thread calls between polls),
so a controller with a watchdog never falls back to its safe current while the kiosk is alive.
Disabling is attempted even if the one-time setup writes fail: stopping energy comes first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from drivers.charger.controller_map import ControllerSpec
from drivers.modbus.bus import DeviceLink
from drivers.modbus.health import HealthReport, HealthTracker, utc_now
from kiosk.devices import ControllerStatus, DeviceError, DeviceProtocolError

T = TypeVar("T")


class ModbusChargeController:
    """Implements kiosk.devices.ChargeController."""

    def __init__(
        self,
        link: DeviceLink,
        spec: ControllerSpec,
        *,
        name: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = utc_now,
    ) -> None:
        self.link = link
        self.spec = spec
        self._clock = clock
        self._wall = wall
        self._setup_done = not spec.setup
        self._setpoint_a: float | None = None
        self._enabled: bool | None = None
        self._last_assert = float("-inf")
        # (charging enabled, current limit) as last read, when they were read, and the raw
        # state they were read with: see ControllerSpec.settings_refresh_s
        self._settings: tuple[bool, float | None] | None = None
        self._settings_at = float("-inf")
        self._settings_state: int | None = None
        label = name or f"controller {spec.regmap.model} unit {link.unit} on {link.bus.describe()}"
        self.health = HealthTracker(label, clock=clock, wall=wall)

    def health_report(self) -> HealthReport:
        return self.health.report()

    # ------------------------------------------------------------------ internals

    def _guarded(self, action: Callable[[], T]) -> T:
        try:
            result = action()
        except DeviceError as exc:
            self._settings = None  # the controller may have restarted: read them again
            self.health.failure(exc)
            raise
        self.health.success(self.link.last_retries)
        return result

    def _ensure_setup(self) -> None:
        if self._setup_done:
            return
        for write in self.spec.setup:
            self.link.write_register(write.address, write.value)
        self._setup_done = True

    def _read_one(self, function: int, address: int) -> int:
        return self.link.read_registers(function, address, 1)[0]

    def _read_value(self, name: str) -> float | None:
        spec = self.spec.regmap.registers[name]
        regs = self.link.read_registers(spec.function, spec.address, spec.count)
        return spec.decode(regs)

    def _write_current(self, amps: float) -> None:
        self._settings = None  # the next status reads what the controller made of it
        reg = self.spec.current
        registers = reg.encode(amps)
        if len(registers) == 1:
            self.link.write_register(reg.address, registers[0])
        else:
            self.link.write_registers(reg.address, registers)
        self._last_assert = self._clock()

    # ------------------------------------------------------------------ contract

    def status(self) -> ControllerStatus:
        self.keepalive()
        return self._guarded(self._status)

    def _status(self) -> ControllerStatus:
        spec = self.spec
        raw = self._read_one(spec.state.function, spec.state.address)
        state, raw_text = spec.decode_state(raw)
        enabled, limit = self._read_settings(raw)
        flags: frozenset[str] = frozenset()
        if spec.errors is not None:
            regs = self.link.read_registers(
                spec.errors.function, spec.errors.address, spec.errors.count
            )
            flags = spec.error_names(int(spec.errors.decode_raw(regs)))
        return ControllerStatus(
            measured_at=self._wall(),
            state=state,
            raw_state=raw_text,
            charging_enabled=enabled,
            current_limit_a=limit,
            error_flags=flags,
        )

    def _read_settings(self, raw_state: int) -> tuple[bool, float | None]:
        """(charging enabled, current limit): read from the controller, unless the spec lets
        them be re-read less often and they were read recently, with the same state."""
        spec = self.spec
        refresh = spec.settings_refresh_s
        now = self._clock()
        if (
            self._settings is not None
            and refresh is not None
            and raw_state == self._settings_state
            and now - self._settings_at < refresh
        ):
            return self._settings
        limit = self._read_value(spec.current.name)
        if spec.enable_kind == "coil":
            assert spec.enable_address is not None
            enabled = self.link.read_bits(1, spec.enable_address, 1)[0]
        else:
            enabled = bool(limit)
        self._settings, self._settings_at, self._settings_state = (enabled, limit), now, raw_state
        return enabled, limit

    def enable_charging(self, enabled: bool) -> None:
        def act() -> None:
            try:
                self._ensure_setup()
            except DeviceError:
                if enabled:
                    raise
                # Disabling still goes ahead: the enable write alone may stop the energy.
            if self.spec.enable_kind == "coil":
                assert self.spec.enable_address is not None
                self._settings = None  # the next status reads what the controller made of it
                self.link.write_coil(self.spec.enable_address, enabled)
            elif enabled:
                if self._setpoint_a is None:
                    raise DeviceProtocolError(
                        f"{self.health.name}: set a current limit before enabling charging "
                        "(this controller enables by writing the current)"
                    )
                self._write_current(self._setpoint_a)
            else:
                self._write_current(0)
            self._enabled = enabled

        self._guarded(act)

    def set_current_limit(self, amps: float) -> None:
        spec = self.spec
        if not spec.min_a <= amps <= spec.max_a:
            raise ValueError(
                f"current limit {amps} A is outside {spec.min_a:g}..{spec.max_a:g} A for "
                f"{spec.regmap.model} (use enable_charging(False) to stop)"
            )

        def act() -> None:
            self._ensure_setup()
            self._setpoint_a = amps
            # A current_zero controller that is disabled must stay at 0 until enabled.
            if spec.enable_kind == "coil" or self._enabled is not False:
                self._write_current(amps)

        self._guarded(act)

    def keepalive(self) -> bool:
        """Re-write the setpoint if `reassert_s` has passed. Returns True if it wrote."""
        if self._setpoint_a is None or self._clock() - self._last_assert < self.spec.reassert_s:
            return False
        amps = self._setpoint_a
        if self.spec.enable_kind == "current_zero" and self._enabled is False:
            amps = 0
        self._guarded(lambda: self._write_current(amps))
        return True
