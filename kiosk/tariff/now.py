"""The price in force at an instant, and when it changes next (AFIR: the ad-hoc price a driver
sees before starting).

OCPI selection per dimension: the first element whose restrictions all match wins. Before a
session starts only the day, the time of day and the date can be decided (in the station's
time zone); a line that also depends on the session (energy, power, current, duration) is in
force only conditionally, so the lines after it that match the time stay in force as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kiosk.tariff.boundaries import NEVER, Boundaries, from_us, to_us
from kiosk.tariff.lines import PriceLine
from kiosk.tariff.model import Tariff
from kiosk.tariff.restrictions import timed_matches

HORIZON = timedelta(hours=24)  # how far ahead a coming change is announced


@dataclass(frozen=True, slots=True)
class PriceNow:
    """What a connector costs at ``at``; ``valid_until`` is when to look again (the next
    instant a restriction can switch, at the latest ``at`` + the horizon)."""

    at: datetime
    lines: tuple[PriceLine, ...]  # in force now, AFIR order (conditional ones included)
    valid_until: datetime
    next_at: datetime | None = None  # the next change within the horizon
    next_lines: tuple[PriceLine, ...] = ()  # in force from next_at


def lines_in_force(
    tariff: Tariff, lines: Sequence[PriceLine], local: datetime
) -> tuple[PriceLine, ...]:
    """The lines in force at the local time ``local``. ``lines`` come from
    ``price_lines(tariff)`` (grouped by dimension, in element order)."""
    decided: set[str] = set()
    out: list[PriceLine] = []
    for line in lines:
        if line.element < 0:
            out.append(line)  # minimum and maximum price: always
            continue
        if line.dimension in decided:
            continue
        if timed_matches(tariff.elements[line.element].restrictions, local):
            out.append(line)
            if not line.when.conditional:
                decided.add(line.dimension)
    return tuple(out)


def price_now(
    tariff: Tariff,
    lines: Sequence[PriceLine],
    tz: ZoneInfo,
    at: datetime,
    horizon: timedelta = HORIZON,
) -> PriceNow:
    """The lines in force at ``at`` and the next change of them within ``horizon``."""
    if at.tzinfo is None:
        raise ValueError("price_now: the instant has no time zone")
    now = lines_in_force(tariff, lines, at.astimezone(tz))
    boundaries = Boundaries(tariff, tz, to_us(at))
    end_us = to_us(at + horizon)
    cursor = to_us(at)
    valid_until_us = min(boundaries.next_wall_clock(cursor), end_us)
    while True:
        cursor = boundaries.next_wall_clock(cursor)
        if cursor == NEVER or cursor > end_us:
            break
        then = lines_in_force(tariff, lines, from_us(cursor).astimezone(tz))
        if then != now:
            return PriceNow(at, now, from_us(valid_until_us), from_us(cursor), then)
    return PriceNow(at, now, from_us(valid_until_us))
