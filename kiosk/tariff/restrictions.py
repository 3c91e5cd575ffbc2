"""When a tariff element is active, and which price component each dimension uses.

Restrictions are evaluated at one instant of the session (the start of a charging period):
local time of day, date and weekday in the location's time zone, energy and duration so far,
and the instantaneous power and current. Lower bounds are inclusive and upper bounds
exclusive throughout, as OCPI defines them for dates, kWh and durations. A power or current
restriction never matches while the power or current is unknown: a fallback element applies.
Elements restricted to reservations never price a charging session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from kiosk.tariff.model import DayOfWeek, Dimension, PriceComponent, Restrictions, Tariff

PRICED_DIMENSIONS = (Dimension.ENERGY, Dimension.TIME, Dimension.PARKING_TIME, Dimension.FLAT)


@dataclass(frozen=True, slots=True)
class State:
    """What restrictions look at, at one instant. ``local`` is the wall-clock time there."""

    local: datetime
    energy_kwh: Decimal  # session energy before this instant
    elapsed_s: Decimal  # seconds since the session started
    power_kw: Decimal | None = None
    current_a: Decimal | None = None


def _in_range(value: Decimal, low: Decimal | int | None, high: Decimal | int | None) -> bool:
    return (low is None or value >= low) and (high is None or value < high)


def time_of_day_matches(r: Restrictions, local: datetime) -> bool:
    now = local.time().replace(tzinfo=None)
    start, end = r.start_time, r.end_time
    if start is None and end is None:
        return True
    if start is not None and end is not None:
        if start == end:
            return True
        if start < end:
            return start <= now < end
        return now >= start or now < end  # the window wraps past midnight
    if start is not None:
        return now >= start
    assert end is not None
    return end == time(0) or now < end  # an end of 00:00 means the end of the day


def _calendar_matches(r: Restrictions, local: datetime) -> bool:
    day = local.date()
    if r.start_date is not None and day < r.start_date:
        return False
    if r.end_date is not None and day >= r.end_date:
        return False
    return not r.day_of_week or DayOfWeek(local.weekday()) in r.day_of_week


def timed_matches(r: Restrictions, local: datetime) -> bool:
    """The restrictions that can be decided without a session: time of day, date, weekday."""
    return r.reservation is None and time_of_day_matches(r, local) and _calendar_matches(r, local)


def _instantaneous_matches(
    value: Decimal | None, low: Decimal | None, high: Decimal | None
) -> bool:
    if low is None and high is None:
        return True
    return value is not None and _in_range(value, low, high)


def matches(r: Restrictions, state: State) -> bool:
    if r.unrestricted:
        return True
    if r.reservation is not None:
        return False
    return (
        time_of_day_matches(r, state.local)
        and _calendar_matches(r, state.local)
        and _in_range(state.energy_kwh, r.min_kwh, r.max_kwh)
        and _in_range(state.elapsed_s, r.min_duration, r.max_duration)
        and _instantaneous_matches(state.power_kw, r.min_power, r.max_power)
        and _instantaneous_matches(state.current_a, r.min_current, r.max_current)
    )


@dataclass(frozen=True, slots=True)
class Selection:
    """The active price component per dimension (None: that dimension is free now)."""

    energy: PriceComponent | None
    time: PriceComponent | None
    parking: PriceComponent | None
    flat: PriceComponent | None

    def get(self, dimension: Dimension) -> PriceComponent | None:
        return {
            Dimension.ENERGY: self.energy,
            Dimension.TIME: self.time,
            Dimension.PARKING_TIME: self.parking,
            Dimension.FLAT: self.flat,
        }[dimension]


def select(tariff: Tariff, state: State) -> Selection:
    """Per dimension, the component of the first element that has one and whose restrictions
    all match (OCPI: first match in list order wins; no match means free)."""
    found: dict[Dimension, PriceComponent] = {}
    for element in tariff.elements:
        if len(found) == len(PRICED_DIMENSIONS):
            break
        components = element.by_dimension
        missing = [d for d in components if d not in found]
        if not missing or not matches(element.restrictions, state):
            continue
        for dimension in missing:
            found[dimension] = components[dimension]
    return Selection(
        energy=found.get(Dimension.ENERGY),
        time=found.get(Dimension.TIME),
        parking=found.get(Dimension.PARKING_TIME),
        flat=found.get(Dimension.FLAT),
    )
