"""The core tariff engine, as the backend uses it: validate a tariff, show its price, and
recompute a reported session's cost from the tariff snapshot and the metered values."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from backend import jsonutil
from backend.schemas import MAX_AMOUNT
from kiosk.tariff import (
    ChargingPeriod,
    Tariff,
    TariffError,
    hold_amount,
    parse_cdr,
    parse_tariff,
    price_session,
)

__all__ = ["Computed", "TariffError", "check_tariff", "recompute"]


@dataclass(frozen=True)
class Computed:
    total_minor: int
    breakdown: dict[str, Any]  # OCPI CDR totals, Decimal amounts


def check_tariff(obj: dict[str, Any], currency: str) -> Tariff:
    """The parsed tariff, or TariffError naming the field (also for a currency mismatch).

    A station sends the same snapshot with every session until its tariff changes: a parsed
    snapshot is kept by the hash of its exact JSON, so it is validated once, not per report.
    """
    text = jsonutil.dumps(obj)
    tariff = _parsed(hashlib.sha256(text.encode()).digest(), text)
    if tariff.currency != currency:
        raise TariffError("currency", f"tariff is in {tariff.currency}, the request in {currency}")
    return tariff


@lru_cache(maxsize=512)
def _parsed(_digest: bytes, text: str) -> Tariff:
    # Keyed by the digest (the text rides along for a miss); Tariff is immutable.
    try:
        return parse_tariff(jsonutil.loads(text))
    except OverflowError:
        # A date-time like 0001-01-01T00:00+00:01 cannot be converted to UTC.
        raise TariffError("", "a date-time in the tariff is out of range") from None


def suggested_hold(obj: dict[str, Any], configured_minor: int) -> int:
    return hold_amount(parse_tariff(obj), configured_minor)


def _meter_period(start: datetime, end: datetime, energy_wh: int) -> ChargingPeriod:
    # One period from start to end: all the metered energy, all the time as charging time.
    seconds = Decimal(int((end - start).total_seconds()))
    return ChargingPeriod(start=start, energy_kwh=Decimal(energy_wh) / 1000, time_h=seconds / 3600)


def recompute(
    tariff_obj: dict[str, Any],
    *,
    currency: str,
    start: datetime,
    end: datetime,
    meter_start_wh: int,
    meter_end_wh: int,
    charging_periods: list[dict[str, Any]] | None,
    time_zone: str,
) -> Computed:
    """Cost of a session per the engine. Raises TariffError (CdrError) naming a bad field."""
    tariff = check_tariff(tariff_obj, currency)
    if end < start:
        raise TariffError("end_date_time", "is before start_date_time", source="session")
    if meter_end_wh < meter_start_wh:
        raise TariffError("meter_end_wh", "is below meter_start_wh", source="session")
    energy_wh = meter_end_wh - meter_start_wh
    if charging_periods:
        try:
            cdr = parse_cdr(
                {
                    "start_date_time": start.isoformat(),
                    "end_date_time": end.isoformat(),
                    "currency": currency,
                    "charging_periods": charging_periods,
                }
            )
        except OverflowError:
            # A period time like 0001-01-01T00:00+00:01 cannot be converted to UTC.
            raise TariffError(
                "charging_periods", "a start_date_time is out of range", source="cdr"
            ) from None
        periods = list(cdr.charging_periods)
        # The periods price the session; a different meter delta is kept for reconciliation.
        period_wh = sum((p.energy_kwh for p in periods), Decimal(0)) * 1000
    else:
        periods = [_meter_period(start, end, energy_wh)]
        period_wh = Decimal(energy_wh)
    breakdown = price_session(tariff, periods, end, ZoneInfo(time_zone))
    if breakdown.total_minor() > MAX_AMOUNT:  # bounded inputs, but their product may not be
        field = "charging_periods" if charging_periods else "meter_end_wh"
        raise TariffError(
            field,
            f"the session costs {breakdown.total_cost.incl_vat.format()}, above the largest "
            f"amount this backend books ({MAX_AMOUNT} minor units)",
            source="session",
        )
    ocpi = dict(breakdown.to_ocpi())
    ocpi["meter_energy_wh"] = energy_wh
    ocpi["period_energy_wh"] = period_wh
    return Computed(total_minor=breakdown.total_minor(), breakdown=ocpi)
