"""A tariff's prices as structured lines a driver reads: one per price component.

A line carries numbers and conditions as data, never words: the screen words it in its own
language (kiosk.tariff.wording). Unit prices include VAT (consumer prices in the EU are
gross), exactly as billed. The values are plain (text times, ISO dates), so a line can be
journaled with the session's offer and published in a snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kiosk.tariff.engine import limit_bounds
from kiosk.tariff.model import Dimension, PriceComponent, Restrictions, Tariff, TaxIncluded

# The order AFIR asks for: per kWh, per minute (charging time), per session, then others.
AFIR_ORDER = ("energy", "time", "flat", "parking_time", "min_price", "max_price")
_DIMENSIONS = (Dimension.ENERGY, Dimension.TIME, Dimension.FLAT, Dimension.PARKING_TIME)


@dataclass(frozen=True, slots=True)
class PriceWhen:
    """When a line applies (the OCPI restrictions as data); all empty: always.

    Days, times and dates can be decided before a session starts; energy, power, current and
    duration depend on the session, so such a line is only ``conditional``.
    """

    days: tuple[int, ...] = ()  # 0 = Monday
    start_time: str | None = None  # "17:00", local, inclusive
    end_time: str | None = None  # local, exclusive; before start_time: past midnight
    start_date: str | None = None  # ISO date, local, inclusive
    end_date: str | None = None  # exclusive
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_power_kw: Decimal | None = None
    max_power_kw: Decimal | None = None
    min_current_a: Decimal | None = None
    max_current_a: Decimal | None = None
    min_duration_s: int | None = None
    max_duration_s: int | None = None
    otherwise: bool = False  # an unrestricted fallback after restricted lines

    @property
    def conditional(self) -> bool:
        """Depends on the session (energy, power, current, duration): not known up front."""
        return any(
            v is not None
            for v in (
                self.min_kwh,
                self.max_kwh,
                self.min_power_kw,
                self.max_power_kw,
                self.min_current_a,
                self.max_current_a,
                self.min_duration_s,
                self.max_duration_s,
            )
        )

    @property
    def timed(self) -> bool:
        """Restricted by day, time of day or date."""
        return bool(self.days) or any(
            v is not None for v in (self.start_time, self.end_time, self.start_date, self.end_date)
        )


@dataclass(frozen=True, slots=True)
class PriceLine:
    """One price component as the driver sees it, before anything starts."""

    dimension: str  # "energy", "time", "flat", "parking_time", "min_price", "max_price"
    price_incl_vat: Decimal  # exact, per kWh, per hour or per session
    currency: str
    vat_percent: Decimal | None = None  # None: no VAT stated (or none applies)
    step_size: int = 0  # billed per started step: Wh (energy), seconds (time, parking)
    when: PriceWhen = PriceWhen()
    element: int = -1  # index of the tariff element it comes from; -1: min/max price

    @property
    def per_unit(self) -> str:
        return {"energy": "kWh", "time": "h", "parking_time": "h"}.get(self.dimension, "session")


def _hhmm(value: object) -> str | None:
    return None if value is None else f"{value:%H:%M}"


def when_of(r: Restrictions, otherwise: bool = False) -> PriceWhen:
    return PriceWhen(
        days=tuple(sorted(d.value for d in r.day_of_week)),
        start_time=_hhmm(r.start_time),
        end_time=_hhmm(r.end_time),
        start_date=None if r.start_date is None else r.start_date.isoformat(),
        end_date=None if r.end_date is None else r.end_date.isoformat(),
        min_kwh=r.min_kwh,
        max_kwh=r.max_kwh,
        min_power_kw=r.min_power,
        max_power_kw=r.max_power,
        min_current_a=r.min_current,
        max_current_a=r.max_current,
        min_duration_s=r.min_duration,
        max_duration_s=r.max_duration,
        otherwise=otherwise,
    )


def gross(component: PriceComponent, tariff: Tariff) -> Decimal:
    """A component's unit price including VAT, exact."""
    if tariff.tax_included is TaxIncluded.NO and component.vat is not None:
        return component.price * (1 + component.vat / 100)
    return component.price


def price_lines(tariff: Tariff) -> tuple[PriceLine, ...]:
    """Every price component as a line, in AFIR order (per kWh, time, session fee, parking),
    then the minimum and maximum price. Components of reservation elements never price a
    charging session and are left out; an unrestricted line after restricted ones of its
    dimension is marked ``otherwise``."""
    no_vat = tariff.tax_included is TaxIncluded.NOT_APPLICABLE
    lines: list[PriceLine] = []
    for dimension in _DIMENSIONS:
        seen_restricted = False
        for index, element in enumerate(tariff.elements):
            component = element.component(dimension)
            r = element.restrictions
            if component is None or r.reservation is not None:
                continue
            otherwise = r.is_empty() and seen_restricted
            seen_restricted = seen_restricted or not r.is_empty()
            lines.append(
                PriceLine(
                    dimension=dimension.value.lower(),
                    price_incl_vat=gross(component, tariff),
                    currency=tariff.currency,
                    vat_percent=None if no_vat else component.vat,
                    step_size=0 if dimension is Dimension.FLAT else component.step_size,
                    when=when_of(r, otherwise),
                    element=index,
                )
            )
    low, high = limit_bounds(tariff)
    rates = tariff.vat_rates()
    rate = None if no_vat or len(rates) != 1 else next(iter(rates))
    for kind, bound in (("min_price", low), ("max_price", high)):
        if bound is not None:
            lines.append(PriceLine(kind, bound.incl_vat.amount, tariff.currency, rate))
    return tuple(lines)
