"""The journaled readings of a signing meter's session re-based onto its signed record.

The live readings give the session's profile (when it charged and when it stood parked); the
signed record gives its energy and its duration. Energy: the counter values re-based onto the
signed energy. Time: the readings' station-clock times moved onto the meter's signed clock, the
first onto the signed begin, the last onto the signed end, the others in proportion, so
time-based prices follow the meter (Eichrecht: the station clock is not calibrated). Both the
kiosk's price and the report the backend recomputes from use these values, so the two ledgers
agree and add up to the signed energy and the signed duration exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from kiosk.money import ROUNDING

_US = timedelta(microseconds=1)


def billed_energies(energies: Sequence[int], energy_wh: int) -> list[int]:
    """Counter values from the first one, capped at first + energy_wh, the last set to it.

    One value only: a second (first + energy_wh) is appended, for the caller to time."""
    if not energies:
        return []
    start = energies[0]
    out = [start + min(max(0, e - start), energy_wh) for e in energies]
    if len(out) == 1:
        return out if energy_wh == 0 else [start, start + energy_wh]
    out[-1] = start + energy_wh
    return out


def signed_clock(times: Sequence[datetime], begin: datetime, end: datetime) -> list[datetime]:
    """`times` (station clock, in order) mapped onto [begin, end] (the meter's signed clock).

    Proportional, in whole microseconds (Decimal, the project's one rounding rule); the first
    is `begin` and the last `end` exactly. All at one instant: the last is `end`, the rest
    `begin`."""
    if not times:
        return []
    first, span = times[0], (times[-1] - times[0]) // _US
    signed = (end - begin) // _US
    if span <= 0:
        return [begin] * (len(times) - 1) + [end] if len(times) > 1 else [begin]
    out = []
    for at in times:
        share = Decimal((at - first) // _US) * signed / span
        out.append(begin + _US * int(share.quantize(Decimal(1), rounding=ROUNDING)))
    out[-1] = end
    return out
