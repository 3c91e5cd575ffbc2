"""Cost of a session from its charging periods: selection, step_size, VAT, min/max, rounding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from kiosk.money import Money
from kiosk.tariff.model import Tariff
from kiosk.tariff.periods import ChargingPeriod


@dataclass(frozen=True, slots=True)
class Price:
    """An OCPI Price: both amounts rounded by THE rule (kiosk.money)."""

    excl_vat: Money
    incl_vat: Money

    def to_ocpi(self) -> dict[str, Decimal]:
        return {"excl_vat": self.excl_vat.amount, "incl_vat": self.incl_vat.amount}


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    currency: str
    total_cost: Price
    total_fixed_cost: Price | None
    total_energy_cost: Price | None
    total_time_cost: Price | None
    total_parking_cost: Price | None
    price_limit_adjustment: Price | None  # min_price/max_price: lines + this == total_cost
    total_energy: Decimal  # kWh
    total_time: Decimal  # h, charging and parking
    total_parking_time: Decimal  # h

    def total_minor(self) -> int:
        """What the card is charged: the total including VAT, in minor units."""
        return self.total_cost.incl_vat.to_minor()

    def to_ocpi(self) -> dict[str, object]:
        raise NotImplementedError


def price_session(
    tariff: Tariff, periods: Sequence[ChargingPeriod], end: datetime, tz: ZoneInfo
) -> CostBreakdown:
    raise NotImplementedError
