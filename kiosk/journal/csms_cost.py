"""I07–I12 local cost per dimension: the tariff engine's breakdown of a session as OCPP 2.1
`costDetails` parts (plain data, no OCPP import).

`totalCost.fixed/energy/chargingTime/idleTime` are the engine's rounded lines, excluding and
including tax, exactly as the receipt and the backend report price them; `total` stays what is
booked. The two differ only by what OCPP has no part for: the tariff's min/max price, the
trailing second after Stop, the hold cap (the receipt lists those as their own lines).
`chargingPeriods` are the engine's periods, each with its tariff and the volumes it priced:
energy in kWh, charging and idle time in seconds. The idle-time dimension is spelled
`IdleTIme`, as the official OCPP 2.1 JSON schema has it (strict CSMSs refuse `IdleTime`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kiosk.tariff import ChargingPeriod, CostBreakdown
from kiosk.tariff.engine import Price, seconds

IDLE_TIME = "IdleTIme"  # sic: CostDimensionEnumType in the OCPP 2.1 schema


@dataclass(frozen=True, slots=True)
class PricedSoFar:
    """The engine's cost of a session up to its last reading, and the periods it priced."""

    breakdown: CostBreakdown
    periods: Sequence[ChargingPeriod]


def _whole(value: Decimal) -> Decimal:
    """Without trailing zeros and never in exponent form (600, not 6E+2)."""
    plain = value.normalize()
    exponent = plain.as_tuple().exponent
    return plain.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else plain


def _price(price: Price, vat: Decimal | None) -> dict[str, Any]:
    out: dict[str, Any] = {"exclTax": price.excl_vat.amount, "inclTax": price.incl_vat.amount}
    if vat is not None:
        out["taxRates"] = [{"type": "VAT", "tax": _whole(vat)}]
    return out


def cost_parts(priced: PricedSoFar, vat: Decimal | None) -> dict[str, Any]:
    """totalCost's parts per dimension (only those the tariff priced)."""
    b = priced.breakdown
    parts: dict[str, Any] = {}
    for name, price in (
        ("fixed", b.total_fixed_cost),
        ("energy", b.total_energy_cost),
        ("chargingTime", b.total_time_cost),
        ("idleTime", b.total_parking_cost),
    ):
        if price is not None:
            parts[name] = _price(price, vat)
    return parts


def idle_seconds(priced: PricedSoFar) -> int:
    return int(seconds(priced.breakdown.total_parking_time).to_integral_value(ROUND_HALF_UP))


def charging_periods(priced: PricedSoFar) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for period in priced.periods:
        dimensions: list[dict[str, Any]] = [{"type": "Energy", "volume": _whole(period.energy_kwh)}]
        if period.time_h:
            dimensions.append({"type": "ChargingTime", "volume": _whole(seconds(period.time_h))})
        if period.parking_h:
            dimensions.append({"type": IDLE_TIME, "volume": _whole(seconds(period.parking_h))})
        entry: dict[str, Any] = {"startPeriod": period.start.isoformat(), "dimensions": dimensions}
        if period.tariff_id:
            entry["tariffId"] = period.tariff_id[:60]
        out.append(entry)
    return out
