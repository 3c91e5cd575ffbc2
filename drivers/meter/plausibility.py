"""Energy-counter checks: a counter that goes back or jumps is an event, never a bill.

The guard keeps the last accepted counter value and when it was measured. A new value must not
be lower (a reset, a replaced meter, a mis-decoded register) and may not grow faster than the
largest power the connection can carry over the elapsed time (plus one counter step of slack,
because float32 counters are coarse at high totals). A violation raises ImplausibleReading and
re-bases the guard on the new value: the session that saw the event is settled from the values
before it, and later readings are compared to the new baseline rather than failing forever.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.devices import ImplausibleReading


@dataclass(frozen=True, slots=True)
class CounterEvent:
    kind: str  # "reset" or "jump"
    previous_wh: int
    new_wh: int
    elapsed_s: float


class EnergyCounterGuard:
    def __init__(self, max_power_w: float, slack_wh: int = 10) -> None:
        if max_power_w <= 0:
            raise ValueError("max_power_w must be positive")
        self.max_power_w = max_power_w
        self.slack_wh = slack_wh
        self._last: tuple[int, float] | None = None  # (Wh, monotonic seconds)
        self.events: list[CounterEvent] = []

    @staticmethod
    def _float32_step_wh(total_wh: int) -> int:
        # A float32 holds 24 significant bits: the counter's step at this size, in Wh.
        return max(1, int(total_wh) >> 23)

    def check(self, energy_wh: int, measured_mono: float) -> int:
        """Return the counter value to report, or raise ImplausibleReading."""
        last = self._last
        self._last = (energy_wh, measured_mono)
        if last is None:
            return energy_wh
        previous, then = last
        elapsed = max(0.0, measured_mono - then)
        slack = self.slack_wh + self._float32_step_wh(max(previous, energy_wh))
        if energy_wh < previous - slack:
            self._record("reset", previous, energy_wh, elapsed)
            raise ImplausibleReading(
                f"energy counter went back from {previous} Wh to {energy_wh} Wh: meter reset, "
                "replaced, or a wrong register/word order; readings before this are kept, "
                "this one is not billed"
            )
        limit = self.max_power_w * elapsed / 3600.0 + slack
        if energy_wh - previous > limit:
            self._record("jump", previous, energy_wh, elapsed)
            raise ImplausibleReading(
                f"energy counter jumped by {energy_wh - previous} Wh in {elapsed:.1f} s, more "
                f"than {self.max_power_w:.0f} W could deliver ({limit:.0f} Wh): not billed"
            )
        if energy_wh < previous:
            # Within one counter step: report the higher value so the counter never goes back.
            self._last = (previous, measured_mono)
            return previous
        return energy_wh

    def _record(self, kind: str, previous: int, new: int, elapsed: float) -> None:
        self.events.append(CounterEvent(kind, previous, new, elapsed))
