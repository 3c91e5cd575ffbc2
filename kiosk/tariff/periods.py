"""Charging periods and CDRs: the metered session, in OCPI CDR shape.

A period starts at ``start`` and lasts until the next period starts (the last one until the
session ends). Quantities are the period's own, not cumulative. Power and current are the
instantaneous values seen during the period, used only to evaluate power/current restrictions
(with the maximum, or the minimum when only that is known). A CPO starts a new period whenever
another tariff element would become active, so one value stands for the whole period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kiosk.tariff.model import TariffError


class CdrError(TariffError):
    """A CDR that cannot be priced. ``field`` is a JSON path, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason, source="cdr")


@dataclass(frozen=True, slots=True)
class ChargingPeriod:
    start: datetime  # aware
    energy_kwh: Decimal = Decimal(0)
    time_h: Decimal = Decimal(0)  # charging time (OCPI TIME)
    parking_h: Decimal = Decimal(0)  # not charging (OCPI PARKING_TIME)
    max_power_kw: Decimal | None = None
    min_power_kw: Decimal | None = None
    max_current_a: Decimal | None = None
    min_current_a: Decimal | None = None
    tariff_id: str | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValueError(f"charging period start {self.start.isoformat()} has no time zone")
        for name in ("energy_kwh", "time_h", "parking_h"):
            value = getattr(self, name)
            if not isinstance(value, Decimal):
                raise TypeError(f"charging period {name} must be Decimal")
            if value < 0:
                raise ValueError(f"charging period {name} is negative: {value}")


@dataclass(frozen=True, slots=True)
class Cdr:
    start_date_time: datetime
    end_date_time: datetime
    charging_periods: tuple[ChargingPeriod, ...]
    currency: str | None = None
    id: str | None = None

    @property
    def periods(self) -> Sequence[ChargingPeriod]:
        return self.charging_periods
