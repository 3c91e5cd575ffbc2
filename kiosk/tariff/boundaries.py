"""Where a tariff's restrictions can switch during a session.

Instants: local times of day named by any restriction, midnights (for date and weekday
restrictions), daylight-saving changes (a jump moves the wall clock past a time without
passing through it; a repeated hour passes through it twice) and duration thresholds.
Energies: kWh thresholds, as whole Wh. Between two boundaries the only restrictions that can
change are power and current, which the readings carry.
"""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from zoneinfo import ZoneInfo

from kiosk.tariff.engine import microseconds
from kiosk.tariff.model import Tariff

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NEVER = 2**62


def to_us(at: datetime) -> int:
    return microseconds(at - EPOCH)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


class Boundaries:
    """Where the tariff's restrictions can switch: instants (time of day, dates, DST changes,
    durations) and session energies (kWh thresholds, as whole Wh)."""

    def __init__(self, tariff: Tariff, tz: ZoneInfo, start_us: int) -> None:
        self.tz = tz
        times: set[time] = set()
        calendar = False
        durations: set[int] = set()
        thresholds: set[int] = set()
        self.banded: list[
            tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None]
        ] = []
        for element in tariff.elements:
            r = element.restrictions
            times.update(t for t in (r.start_time, r.end_time) if t is not None)
            calendar = (
                calendar
                or bool(r.day_of_week)
                or r.start_date is not None
                or r.end_date is not None
            )
            durations.update(d for d in (r.min_duration, r.max_duration) if d is not None)
            for kwh in (r.min_kwh, r.max_kwh):
                if kwh is not None:  # session Wh are whole: >= kWh*1000 means >= its ceiling
                    thresholds.add(int((kwh * 1000).to_integral_value(rounding=ROUND_CEILING)))
            if any(v is not None for v in (r.min_power, r.max_power, r.min_current, r.max_current)):
                self.banded.append((r.min_power, r.max_power, r.min_current, r.max_current))
        if times or calendar:
            times.add(time(0, 0))
        self.times = sorted(times)
        self.durations_us = sorted(start_us + d * 1_000_000 for d in durations)
        self.thresholds_wh = sorted(thresholds)

    def bands(self, power_kw: Decimal | None, current_a: Decimal | None) -> tuple[bool, ...]:
        """Which power/current bounds hold now; equal tuples select the same elements."""
        out: list[bool] = []
        for min_p, max_p, min_i, max_i in self.banded:
            for value, low, high in ((power_kw, min_p, max_p), (current_a, min_i, max_i)):
                if low is not None:
                    out.append(value is not None and value >= low)
                if high is not None:
                    out.append(value is not None and value < high)
        return tuple(out)

    def next_energy(self, after_wh: int) -> int:
        i = bisect.bisect_right(self.thresholds_wh, after_wh)
        return self.thresholds_wh[i] if i < len(self.thresholds_wh) else NEVER

    def next_instant(self, after_us: int) -> int:
        best = NEVER
        i = bisect.bisect_right(self.durations_us, after_us)
        if i < len(self.durations_us):
            best = self.durations_us[i]
        if self.times:
            best = min(best, self.next_wall_clock(after_us))
        return best

    def next_wall_clock(self, after_us: int) -> int:
        """The next instant a time-of-day, date or weekday restriction can switch (NEVER if
        the tariff has none)."""
        if not self.times:
            return NEVER
        after = from_us(after_us)
        today = after.astimezone(self.tz).date()
        best = NEVER
        for day in (today, today + timedelta(days=1), today + timedelta(days=2)):
            for t in self.times:
                for fold in (0, 1):  # both readings of a wall time repeated when clocks go back
                    us = to_us(self._wall(day, t, fold))
                    if after_us < us < best:
                        best = us
            if best != NEVER:
                break
        # A daylight-saving jump moves wall time without passing through it: cut there too.
        if self._offset(after_us) != self._offset(best):
            best = self._offset_change(after_us, best)
        return best

    def _offset(self, us: int) -> timedelta | None:
        return from_us(us).astimezone(self.tz).utcoffset()

    def _wall(self, day: date, t: time, fold: int) -> datetime:
        return datetime.combine(day, t, tzinfo=self.tz).replace(fold=fold)

    def _offset_change(self, low_us: int, high_us: int) -> int:
        """First microsecond in (low, high] with a different UTC offset than at low."""
        offset = self._offset(low_us)
        while high_us - low_us > 1:
            mid = (low_us + high_us) // 2
            if self._offset(mid) == offset:
                low_us = mid
            else:
                high_us = mid
        return high_us
