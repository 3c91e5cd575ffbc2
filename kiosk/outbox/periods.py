"""A session's OCPI charging periods, rebuilt from its journaled readings.

The same engine and the same readings (time, energy, power, charging or parked) that priced the
session live, so the backend's recomputation sees the charging and parking time the kiosk
billed, not one period of "all of it charging".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.runtime.offers import tariff_of
from kiosk.tariff import ChargingPeriod, LiveCostCalculator

# One journaled reading in a report: [measured_at ISO, energy Wh, power W or null, charging].
Reading = Sequence[Any]


def _dimensions(p: ChargingPeriod) -> list[dict[str, Any]]:
    dims: list[dict[str, Any]] = [{"type": "ENERGY", "volume": p.energy_kwh}]
    if p.time_h:
        dims.append({"type": "TIME", "volume": p.time_h})
    if p.parking_h:
        dims.append({"type": "PARKING_TIME", "volume": p.parking_h})
    for kind, value in (
        ("MAX_POWER", p.max_power_kw),
        ("MIN_POWER", p.min_power_kw),
        ("MAX_CURRENT", p.max_current_a),
        ("MIN_CURRENT", p.min_current_a),
    ):
        if value is not None:
            dims.append({"type": kind, "volume": value})
    return dims


def charging_periods(tariff_json: str, time_zone: str, readings: Sequence[Reading]) -> list[Any]:
    """OCPI ChargingPeriod objects (Decimal volumes) for readings[0] (start) .. readings[-1]."""
    if len(readings) < 2:
        return []
    first = readings[0]
    calc = LiveCostCalculator(
        tariff_of(tariff_json), ZoneInfo(time_zone), datetime.fromisoformat(first[0]), first[1]
    )
    for at, energy_wh, power_w, charging in readings[1:]:
        calc.add_reading(
            datetime.fromisoformat(at),
            int(energy_wh),
            power_w=power_w,
            charging=charging is None or bool(charging),
        )
    return [
        {
            "start_date_time": p.start.isoformat(),
            "dimensions": _dimensions(p),
            **({"tariff_id": p.tariff_id} if p.tariff_id else {}),
        }
        for p in calc.periods()
    ]
