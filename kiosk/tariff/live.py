"""The live cost calculator: meter readings in, the running cost out, O(1) per reading.

How readings become charging periods (and why live == final, to the cent):

* A reading's power, current and ``charging`` flag describe the interval since the previous
  reading (the first reading: since ``start``). Energy is the meter's cumulative Wh counter.
* A reading interval is cut where a restriction could switch: at a local time-of-day
  boundary, midnight, a daylight-saving change, a duration threshold, or where the session
  energy reaches a kWh threshold. Energy at a time cut is interpolated linearly and floored
  to whole Wh; a kWh cut is placed at the first microsecond the line reaches the threshold.
* A new period starts whenever the active component of any dimension, the power/current
  bands or the charging flag differ from the open period's; otherwise the open period grows.
* The running cost is the closed periods' exact sums plus the open period, fed through the
  same :class:`kiosk.tariff.engine.Totals` that ``price_session`` uses. ``periods()`` returns
  exactly these periods, so ``price_session(tariff, calc.periods(), last_at, tz)`` repeats
  the same arithmetic in the same order and gives the same result.

Work per reading is bounded by the tariff (its elements and the boundaries inside one reading
interval), not by the session length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from kiosk.tariff.boundaries import Boundaries, from_us, to_us
from kiosk.tariff.engine import (
    CostBreakdown,
    Totals,
    hours_from_us,
    limit_bounds,
)
from kiosk.tariff.model import Tariff
from kiosk.tariff.periods import ChargingPeriod
from kiosk.tariff.restrictions import Selection, State, select
from kiosk.tariff.running import RunningCost

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_INF = float("inf")


def _decimal(value: float | None, scale: int = 0) -> Decimal | None:
    # Power and current are measurements, not money: their shortest repr is what was measured.
    return None if value is None else Decimal(repr(value)).scaleb(scale)


@dataclass(slots=True)
class _OpenPeriod:
    start_us: int
    selection: Selection
    bands: tuple[bool, ...]
    charging: bool
    cost: RunningCost
    energy_wh: int = 0
    duration_us: int = 0
    # Extremes as the meter's floats: Decimal(repr(x)) keeps their order, so converting the
    # extreme gives the extreme of the converted values (done only when a period is built).
    max_power_w: float | None = None
    min_power_w: float | None = None
    max_current_a: float | None = None
    min_current_a: float | None = None

    def note(self, power_w: float | None, current_a: float | None) -> None:
        if power_w is not None:
            if self.max_power_w is None or power_w > self.max_power_w:
                self.max_power_w = power_w
            if self.min_power_w is None or power_w < self.min_power_w:
                self.min_power_w = power_w
        if current_a is not None:
            if self.max_current_a is None or current_a > self.max_current_a:
                self.max_current_a = current_a
            if self.min_current_a is None or current_a < self.min_current_a:
                self.min_current_a = current_a

    def to_period(self, tariff_id: str) -> ChargingPeriod:
        hours = hours_from_us(self.duration_us)
        return ChargingPeriod(
            start=from_us(self.start_us),
            energy_kwh=Decimal(self.energy_wh).scaleb(-3),
            time_h=hours if self.charging else Decimal(0),
            parking_h=Decimal(0) if self.charging else hours,
            max_power_kw=_decimal(self.max_power_w, -3),
            min_power_kw=_decimal(self.min_power_w, -3),
            max_current_a=_decimal(self.max_current_a),
            min_current_a=_decimal(self.min_current_a),
            tariff_id=tariff_id,
        )


class LiveCostCalculator:
    """Running cost of one session, fed the meter's readings in order.

    :meth:`add` is the per-reading path: it returns the total incl. VAT in minor units and
    redoes only the lines the open period changes. The full :class:`CostBreakdown` is built
    when it is read (:attr:`last`, :meth:`add_reading`)."""

    def __init__(self, tariff: Tariff, tz: ZoneInfo, start: datetime, start_energy_wh: int) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("session start has no time zone")
        if isinstance(start_energy_wh, bool) or not isinstance(start_energy_wh, int):
            raise TypeError("start_energy_wh must be int (whole Wh from the meter)")
        self.tariff = tariff
        self.tz = tz
        self.start = start
        self.start_energy_wh = start_energy_wh
        self._start_us = to_us(start)
        self._last_us = self._start_us
        self._last_wh = 0  # session energy so far
        self._bounds = Boundaries(tariff, tz, self._start_us)
        self._banded = bool(self._bounds.banded)
        self._closed = Totals()
        self._closed_periods: list[ChargingPeriod] = []
        self._open: _OpenPeriod | None = None
        self._valid_until_us = -1  # the open selection holds while time and energy stay below
        self._valid_below_wh = -1
        self._breakdown: CostBreakdown | None = None  # of the latest reading, once read
        self._limits = limit_bounds(tariff)

    # ------------------------------------------------------------------ public

    def add(
        self,
        at: datetime,
        energy_wh: int,
        power_w: float | None = None,
        current_a: float | None = None,
        charging: bool = True,
    ) -> int:
        """Take one meter reading; returns the session's cost incl. VAT up to ``at``, in minor
        units (what :attr:`last` ``.total_minor()`` says)."""
        if type(energy_wh) is not int:
            raise TypeError("energy_wh must be int (the meter's cumulative Wh counter)")
        try:
            at_us = (at - _EPOCH) // _ONE_US
        except TypeError:
            if isinstance(at, datetime) and at.utcoffset() is None:
                raise ValueError("reading time has no time zone") from None
            raise
        session_wh = energy_wh - self.start_energy_wh
        tc, ec = self._last_us, self._last_wh
        if at_us < tc:
            raise ValueError(f"reading at {at.isoformat()} is older than the previous one")
        if session_wh < ec:
            raise ValueError(
                f"energy counter went back: {energy_wh} Wh after {ec + self.start_energy_wh} Wh"
            )
        if power_w is not None and not -_INF < power_w < _INF:  # NaN fails both
            raise ValueError(f"power_w: {power_w!r} is not a measurement")
        if current_a is not None and not -_INF < current_a < _INF:
            raise ValueError(f"current_a: {current_a!r} is not a measurement")
        open_ = self._open
        until_us, below_wh = self._valid_until_us, self._valid_below_wh
        if (
            open_ is not None
            and tc < until_us >= at_us
            and ec < below_wh >= session_wh
            and charging == open_.charging
            and not self._banded
        ):
            # the common case: no boundary inside the interval, the open period grows
            open_.energy_wh += session_wh - ec
            open_.duration_us += at_us - tc
            if power_w is not None:
                high = open_.max_power_w
                if high is None or power_w > high:
                    open_.max_power_w = power_w
                low = open_.min_power_w
                if low is None or power_w < low:
                    open_.min_power_w = power_w
            if current_a is not None:
                open_.note(None, current_a)
        else:
            self._advance(at_us, session_wh, power_w, current_a, charging)
            open_ = self._open
            assert open_ is not None
        self._last_us, self._last_wh = at_us, session_wh
        self._breakdown = None
        return open_.cost.gross_minor(open_.energy_wh, open_.duration_us)

    def add_reading(
        self,
        at: datetime,
        energy_wh: int,
        power_w: float | None = None,
        current_a: float | None = None,
        charging: bool = True,
    ) -> CostBreakdown:
        """Take one meter reading; returns the cost of the session up to ``at`` in full."""
        self.add(at, energy_wh, power_w, current_a, charging)
        result = self.last
        assert result is not None
        return result

    def line_amounts(self) -> tuple[tuple[str, Decimal, Decimal], ...]:
        """The latest reading's cost lines (name, net, gross) in receipt order, the price
        limit adjustment last; they add up to the total. Computed with the total: cheap."""
        if self._open is None:
            return ()
        return self._open.cost.line_amounts()

    def periods(self) -> list[ChargingPeriod]:
        """The periods built so far, the open one last (OCPI CDR charging_periods)."""
        periods = list(self._closed_periods)
        if self._open is not None:
            periods.append(self._open.to_period(self.tariff.id))
        return periods

    @property
    def last(self) -> CostBreakdown | None:
        """The full cost of the latest reading (None before the first), built when read."""
        if self._breakdown is None and self._open is not None:  # set by the first reading
            totals = self._closed.copy()
            totals.add(self._open.to_period(self.tariff.id), self._open.selection)
            elapsed_h = hours_from_us(self._last_us - self._start_us)
            self._breakdown = totals.result(self.tariff, elapsed_h, self._limits)
        return self._breakdown

    # ------------------------------------------------------------------ internals

    def _advance(
        self,
        t1: int,
        e1: int,
        power_w: float | None,
        current_a: float | None,
        charging: bool,
    ) -> None:
        tc, ec = self._last_us, self._last_wh
        bands = self._bands(power_w, current_a) if self._banded else ()
        while True:
            open_ = self._open
            if (
                open_ is None
                or tc >= self._valid_until_us
                or ec >= self._valid_below_wh
                or bands != open_.bands
                or charging != open_.charging
            ):
                open_ = self._settle(
                    tc,
                    ec,
                    power_w=power_w,
                    current_a=current_a,
                    bands=bands,
                    charging=charging,
                )
            cut_us, cut_wh = t1, e1
            # After _settle these are the next energy and instant boundaries past (tc, ec).
            threshold, instant = self._valid_below_wh, self._valid_until_us
            if threshold < e1:  # the line reaches the threshold inside this interval
                cut_us = tc + -(-(threshold - ec) * (t1 - tc) // (e1 - ec))
                cut_wh = threshold
            if instant < cut_us:
                cut_us = instant
                cut_wh = ec + (e1 - ec) * (instant - tc) // (t1 - tc)
            open_.energy_wh += cut_wh - ec
            open_.duration_us += cut_us - tc
            open_.note(power_w, current_a)
            if cut_us == t1 and cut_wh == e1:
                return
            tc, ec = cut_us, cut_wh

    def _bands(self, power_w: float | None, current_a: float | None) -> tuple[bool, ...]:
        return self._bounds.bands(_decimal(power_w, -3), _decimal(current_a))

    def _settle(
        self,
        at_us: int,
        energy_wh: int,
        *,
        power_w: float | None,
        current_a: float | None,
        bands: tuple[bool, ...],
        charging: bool,
    ) -> _OpenPeriod:
        """The open period whose selection holds at (at_us, energy_wh). Restrictions only
        switch at the boundaries, so between two of them the selection is re-evaluated only
        when the power/current bands or the charging flag change."""
        open_ = self._open
        state = State(
            local=from_us(at_us).astimezone(self.tz),
            energy_kwh=Decimal(energy_wh).scaleb(-3),
            elapsed_s=Decimal(at_us - self._start_us).scaleb(-6),
            power_kw=_decimal(power_w, -3),
            current_a=_decimal(current_a),
        )
        selection = select(self.tariff, state)
        self._valid_until_us = self._bounds.next_instant(at_us)
        self._valid_below_wh = self._bounds.next_energy(energy_wh)
        if (
            open_ is not None
            and selection == open_.selection
            and bands == open_.bands
            and charging == open_.charging
        ):
            return open_
        if open_ is not None:
            closed = open_.to_period(self.tariff.id)
            self._closed.add(closed, open_.selection)
            self._closed_periods.append(closed)
        self._open = _OpenPeriod(
            start_us=at_us,
            selection=selection,
            bands=bands,
            charging=charging,
            cost=RunningCost(self.tariff, self._closed.copy(), selection, charging, self._limits),
        )
        return self._open
