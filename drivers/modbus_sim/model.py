"""The physics behind the simulated meter and controller: one car on one connector.

The controller's enable flag and current limit, and the car's plug, state of charge and
maximum power decide the power; the meter integrates it into an import counter that never
decreases (unless a counter reset is injected). Charging runs at constant power until 80 %
state of charge, then tapers linearly to 5 % of it at 100 %, then stops (state B2). Time comes
from an injected monotonic clock; `speed` makes simulated time run faster for demonstrations.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TAPER_FROM_SOC = 0.8
TAPER_FLOOR = 0.05
STEP_S = 1.0  # integration step (simulated seconds), fine enough for the taper


@dataclass(frozen=True, slots=True)
class ElectricalValues:
    voltage_v: tuple[float, ...]
    current_a: tuple[float, ...]
    power_w: tuple[float, ...]
    power_total_w: float
    frequency_hz: float
    import_wh: float
    export_wh: float


class ChargingModel:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        speed: float = 1.0,
        phases: int = 3,
        voltages_v: tuple[float, float, float] = (230.1, 229.8, 230.4),
        frequency_hz: float = 50.0,
        import_wh: float = 12_345_678.0,
        export_wh: float = 12_345.0,
        current_limit_a: float = 16.0,
        fallback_current_a: float = 6.0,
        watchdog_s: float | None = None,
    ) -> None:
        self._clock = clock
        self.speed = speed
        self.phases = phases
        self.voltages_v = voltages_v[:phases]
        self.frequency_hz = frequency_hz
        self.import_wh = import_wh
        self.export_wh = export_wh
        self.plugged = False
        self.enabled = False
        self.current_limit_a = current_limit_a
        self.fallback_current_a = fallback_current_a
        self.watchdog_s = watchdog_s
        self.soc = 0.3
        self.capacity_wh = 60_000.0
        self.ev_max_power_w = 11_000.0
        self.error_state: str | None = None  # "E" or "F" when a fault is simulated
        self.current_writes = 0
        self._last_write = clock()
        self._last = clock()
        self.lock = threading.RLock()

    # ------------------------------------------------------------------ inputs

    def plug_in(self, soc: float | None = None) -> None:
        with self.lock:
            self.advance()
            self.plugged = True
            if soc is not None:
                self.soc = _fraction(soc, "soc")

    def unplug(self) -> None:
        with self.lock:
            self.advance()
            self.plugged = False

    def set_ev(
        self,
        *,
        soc: float | None = None,
        max_power_w: float | None = None,
        capacity_wh: float | None = None,
    ) -> None:
        with self.lock:
            self.advance()
            if soc is not None:
                self.soc = _fraction(soc, "soc")
            if max_power_w is not None:
                self.ev_max_power_w = max(0.0, max_power_w)
            if capacity_wh is not None:
                self.capacity_wh = max(1.0, capacity_wh)

    def set_enabled(self, enabled: bool) -> None:
        with self.lock:
            self.advance()
            self.enabled = enabled

    def write_current(self, amps: float) -> None:
        with self.lock:
            self.advance()
            self.current_limit_a = amps
            self.current_writes += 1
            self._last_write = self._clock()

    def set_error(self, state: str | None) -> None:
        if state not in (None, "E", "F"):
            raise ValueError("error state must be None, 'E' or 'F'")
        with self.lock:
            self.advance()
            self.error_state = state

    def reset_counter(self) -> None:
        with self.lock:
            self.advance()
            self.import_wh = 0.0

    # ------------------------------------------------------------------ physics

    @property
    def fallback_active(self) -> bool:
        """The controller's watchdog expired: it charges at its safe current."""
        return self.watchdog_s is not None and self._clock() - self._last_write > self.watchdog_s

    def effective_current_a(self) -> float:
        return self.fallback_current_a if self.fallback_active else self.current_limit_a

    def _power(self) -> float:
        if not (self.plugged and self.enabled) or self.error_state or self.soc >= 1.0:
            return 0.0
        grid = (
            self.phases * sum(self.voltages_v) / len(self.voltages_v) * self.effective_current_a()
        )
        power = min(self.ev_max_power_w, grid)
        if self.soc > TAPER_FROM_SOC:
            power *= max(TAPER_FLOOR, (1.0 - self.soc) / (1.0 - TAPER_FROM_SOC))
        return max(0.0, power)

    def advance(self) -> None:
        """Integrate energy and state of charge up to now."""
        with self.lock:
            now = self._clock()
            remaining = max(0.0, now - self._last) * self.speed
            self._last = now
            while remaining > 0:
                step = min(STEP_S, remaining)
                energy = self._power() * step / 3600.0
                self.import_wh += energy
                self.soc = min(1.0, self.soc + energy / self.capacity_wh)
                remaining -= step

    def values(self) -> ElectricalValues:
        with self.lock:
            self.advance()
            total = self._power()
            per_phase = total / self.phases
            return ElectricalValues(
                voltage_v=self.voltages_v,
                current_a=tuple(per_phase / v for v in self.voltages_v),
                power_w=(per_phase,) * self.phases,
                power_total_w=total,
                frequency_hz=self.frequency_hz,
                import_wh=self.import_wh,
                export_wh=self.export_wh,
            )

    def iec_state(self) -> tuple[str, str]:
        """(letter, suffix) as IEC 61851 names it: A1, B1 (no PWM), B2, C2, E0, F0."""
        with self.lock:
            self.advance()
            if self.error_state:
                return self.error_state, "0"
            if not self.plugged:
                return "A", "1"
            if not self.enabled:
                return "B", "1"
            if self.soc >= 1.0 or self.ev_max_power_w <= 0:
                return "B", "2"
            return "C", "2"


def _fraction(value: float, name: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, not {value}")
    return value
