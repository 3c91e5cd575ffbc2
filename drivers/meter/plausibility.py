"""Energy-counter checks: a counter that goes back or jumps is an event, never a bill.

The guard keeps the last accepted counter value and when it was measured. A new value must not
be lower (a reset, a replaced meter, a mis-decoded register) and may not grow faster than the
largest power the connection can carry over the elapsed time (plus one counter step of slack,
because float32 counters are coarse at high totals). Nor may it stand still for minutes while
the meter itself reports real power flowing: a frozen meter would deliver energy unbilled.
A violation raises ImplausibleReading and re-bases the guard on the new value: the session that
saw the event is settled from the values before it, and later readings are compared to the new
baseline rather than failing forever.
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


FROZEN_MIN_POWER_W = 500.0  # below this a counter may legitimately stand still for long
FROZEN_AFTER_S = 120.0


class EnergyCounterGuard:
    def __init__(
        self, max_power_w: float, slack_wh: int = 10, frozen_after_s: float = FROZEN_AFTER_S
    ) -> None:
        if max_power_w <= 0:
            raise ValueError("max_power_w must be positive")
        self.max_power_w = max_power_w
        self.slack_wh = slack_wh
        self.frozen_after_s = frozen_after_s
        self._last: tuple[int, float] | None = None  # (Wh, monotonic seconds)
        self._moved: tuple[int, float] | None = None  # counter value, since when unchanged
        self.events: list[CounterEvent] = []

    @staticmethod
    def _float32_step_wh(total_wh: int) -> int:
        # A float32 holds 24 significant bits: the counter's step at this size, in Wh.
        return max(1, int(total_wh) >> 23)

    def check(self, energy_wh: int, measured_mono: float, power_w: float | None = None) -> int:
        """Return the counter value to report, or raise ImplausibleReading."""
        reported = self._check_counter(energy_wh, measured_mono)
        self._check_frozen(reported, measured_mono, power_w)
        return reported

    def _check_frozen(self, energy_wh: int, now: float, power_w: float | None) -> None:
        moved = self._moved
        if moved is None or energy_wh != moved[0] or power_w is None:
            self._moved = (energy_wh, now)
            return
        if power_w < FROZEN_MIN_POWER_W:
            self._moved = (energy_wh, now)  # little flow: restart the watch
            return
        standing = now - moved[1]
        expected = power_w * standing / 3600.0
        if standing >= self.frozen_after_s and expected > self.slack_wh + 3 * self._float32_step_wh(
            energy_wh
        ):
            self._record("frozen", energy_wh, energy_wh, standing)
            raise ImplausibleReading(
                f"energy counter stuck at {energy_wh} Wh for {standing:.0f} s while the meter "
                f"reports {power_w:.0f} W (about {expected:.0f} Wh should have been counted): "
                "meter frozen? energy is flowing unbilled"
            )

    def _check_counter(self, energy_wh: int, now: float) -> int:
        last = self._last
        if last is None:
            self._last = (energy_wh, now)
            return energy_wh
        # `since` is when the counter first showed `previous`: energy counted after that moment
        # cannot exceed what the connection carried since (a meter that was frozen catches up).
        previous, since = last
        elapsed = max(0.0, now - since)
        slack = self.slack_wh + self._float32_step_wh(max(previous, energy_wh))
        if energy_wh < previous - slack:
            self._last = (energy_wh, now)
            self._record("reset", previous, energy_wh, elapsed)
            raise ImplausibleReading(
                f"energy counter went back from {previous} Wh to {energy_wh} Wh: meter reset, "
                "replaced, or a wrong register/word order; readings before this are kept, "
                "this one is not billed"
            )
        limit = self.max_power_w * elapsed / 3600.0 + slack
        if energy_wh - previous > limit:
            self._last = (energy_wh, now)
            self._record("jump", previous, energy_wh, elapsed)
            raise ImplausibleReading(
                f"energy counter jumped by {energy_wh - previous} Wh in {elapsed:.1f} s, more "
                f"than {self.max_power_w:.0f} W could deliver ({limit:.0f} Wh): not billed"
            )
        if energy_wh <= previous:
            # Unchanged, or back by less than one counter step: report the higher value, so the
            # counter never goes back.
            return previous
        self._last = (energy_wh, now)
        return energy_wh

    def _record(self, kind: str, previous: int, new: int, elapsed: float) -> None:
        self.events.append(CounterEvent(kind, previous, new, elapsed))
