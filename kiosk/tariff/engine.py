"""Cost of a session from its charging periods: selection, step_size, VAT, min/max, rounding.

The algorithm (docs/pricing.md has the worked example):

1. Each period is priced with the components active at its start (kiosk.tariff.restrictions);
   its quantities are summed exactly per component (kWh; seconds to the microsecond).
2. FLAT is charged once, from the first period in which a FLAT component is active.
3. step_size (OCPI CDR rules): the priced ENERGY total is rounded up to the step of the last
   ENERGY component used; for time, the PARKING_TIME total is rounded up if any parking was
   priced, otherwise the TIME total. The extra quantity is charged at the last component's price.
4. Per dimension, the exact amounts excluding and including VAT are rounded by THE rule
   (kiosk.money); the total is the sum of those rounded lines.
5. min_price / max_price clamp the total excluding and including VAT independently; the
   difference is its own line (``price_limit_adjustment``), so lines still add up to the total.

The live calculator feeds the very same :class:`Totals` with the same periods, which is why the
live cost and the final cost agree to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from kiosk.money import Money, round_amount
from kiosk.tariff.model import Dimension, PriceComponent, PriceLimit, Tariff, TaxIncluded
from kiosk.tariff.periods import ChargingPeriod
from kiosk.tariff.restrictions import Selection, State, select

_HUNDRED = Decimal(100)
_THOUSAND = Decimal(1000)
SECONDS_PER_HOUR = Decimal(3600)
US_PER_HOUR = Decimal(3_600_000_000)
_MICROSECOND = Decimal("0.000001")
_ONE_US = timedelta(microseconds=1)


def microseconds(delta: timedelta) -> int:
    return delta // _ONE_US


def seconds(hours: Decimal) -> Decimal:
    """Hours -> seconds, to the microsecond: the unit time is summed and rounded in."""
    return (hours * SECONDS_PER_HOUR).quantize(_MICROSECOND, rounding=ROUND_HALF_UP)


def hours_from_us(us: int) -> Decimal:
    """Hours from integer microseconds: the one conversion both pricing paths use."""
    return Decimal(us) / US_PER_HOUR


@dataclass(frozen=True, slots=True)
class Price:
    """An OCPI Price: both amounts rounded by THE rule (kiosk.money)."""

    excl_vat: Money
    incl_vat: Money

    def __add__(self, other: Price) -> Price:
        return Price(self.excl_vat + other.excl_vat, self.incl_vat + other.incl_vat)

    def to_ocpi(self) -> dict[str, Decimal]:
        return {"excl_vat": self.excl_vat.amount, "incl_vat": self.incl_vat.amount}


def _plain_quantity(value: Decimal, places: Decimal) -> Decimal:
    quantized = value.quantize(places, rounding=ROUND_HALF_UP)
    return quantized.normalize() if quantized != 0 else Decimal(0)


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
    billed: dict[str, Decimal] = field(default_factory=dict, compare=False)  # after step_size

    def total_minor(self) -> int:
        """What the card is charged: the total including VAT, in minor units."""
        return self.total_cost.incl_vat.to_minor()

    def lines(self) -> list[tuple[str, Price]]:
        """The non-empty cost lines in receipt order; they add up to ``total_cost``."""
        named = [
            ("energy", self.total_energy_cost),
            ("time", self.total_time_cost),
            ("parking", self.total_parking_cost),
            ("fixed", self.total_fixed_cost),
            ("price_limit", self.price_limit_adjustment),
        ]
        return [(name, price) for name, price in named if price is not None]

    def to_ocpi(self) -> dict[str, object]:
        """The CDR cost fields; amounts and quantities as Decimal (serialise with
        kiosk.tariff.jsonio so they stay exact JSON numbers)."""

        def price(p: Price | None) -> dict[str, Decimal] | None:
            return None if p is None else p.to_ocpi()

        return {
            "currency": self.currency,
            "total_cost": self.total_cost.to_ocpi(),
            "total_fixed_cost": price(self.total_fixed_cost),
            "total_energy_cost": price(self.total_energy_cost),
            "total_time_cost": price(self.total_time_cost),
            "total_parking_cost": price(self.total_parking_cost),
            "total_energy": _plain_quantity(self.total_energy, _MICROSECOND),
            "total_time": _plain_quantity(self.total_time, _MICROSECOND),
            "total_parking_time": _plain_quantity(self.total_parking_time, _MICROSECOND),
        }


def _vat(component: PriceComponent) -> Decimal:
    return component.vat if component.vat is not None else Decimal(0)


def _ceil_to_step(quantity: Decimal, step: int) -> Decimal:
    steps = (quantity / step).to_integral_value(rounding=ROUND_CEILING)
    return steps * step


class Totals:
    """Exact running sums of a session's priced periods. Adding a period is O(1).

    Quantities are summed per price component in exact units (kWh; seconds, to the
    microsecond) and multiplied by the price only when a result is asked for, so splitting
    a period in two, or pricing it live in growing pieces, cannot change a cent.
    """

    __slots__ = ("energy_kwh", "flat", "last", "parking_s", "quantities")

    def __init__(self) -> None:
        # (dimension, component) -> quantity priced with it: kWh for ENERGY, else seconds
        self.quantities: dict[tuple[Dimension, PriceComponent], Decimal] = {}
        self.last: dict[Dimension, PriceComponent] = {}  # last component that priced something
        self.flat: PriceComponent | None = None
        self.energy_kwh = Decimal(0)
        self.parking_s = Decimal(0)

    def copy(self) -> Totals:
        other = Totals()
        other.quantities = dict(self.quantities)
        other.last = dict(self.last)
        other.flat = self.flat
        other.energy_kwh = self.energy_kwh
        other.parking_s = self.parking_s
        return other

    def _charge(self, dimension: Dimension, component: PriceComponent, qty: Decimal) -> None:
        key = (dimension, component)
        self.quantities[key] = self.quantities.get(key, Decimal(0)) + qty

    def priced(self, dimension: Dimension) -> Decimal:
        return sum((q for (d, _), q in self.quantities.items() if d is dimension), Decimal(0))

    def add(self, period: ChargingPeriod, selection: Selection) -> None:
        time_s = seconds(period.time_h)
        parking_s = seconds(period.parking_h)
        self.energy_kwh += period.energy_kwh
        self.parking_s += parking_s
        if self.flat is None and selection.flat is not None:
            self.flat = selection.flat
        for dimension, component, qty in (
            (Dimension.ENERGY, selection.energy, period.energy_kwh),
            (Dimension.TIME, selection.time, time_s),
            (Dimension.PARKING_TIME, selection.parking, parking_s),
        ):
            if component is None or qty == 0:
                continue
            self._charge(dimension, component, qty)
            self.last[dimension] = component

    def _apply_step_sizes(self) -> dict[str, Decimal]:
        """Round the priced totals up to the last component's step; charge the extra."""
        billed: dict[str, Decimal] = {}
        energy = self.last.get(Dimension.ENERGY)
        if energy is not None:
            wh = self.priced(Dimension.ENERGY) * _THOUSAND
            billed_wh = _ceil_to_step(wh, energy.step_size) if energy.step_size > 0 else wh
            if billed_wh != wh:
                self._charge(Dimension.ENERGY, energy, (billed_wh - wh) / _THOUSAND)
            billed["energy_kwh"] = billed_wh / _THOUSAND
        # TIME and PARKING_TIME share one rounding: parking if any was priced, else time.
        for dimension in (Dimension.PARKING_TIME, Dimension.TIME):
            component = self.last.get(dimension)
            if component is None:
                continue
            total_s = self.priced(dimension)
            step = component.step_size
            billed_s = _ceil_to_step(total_s, step) if step > 0 else total_s
            if billed_s != total_s:
                self._charge(dimension, component, billed_s - total_s)
            billed[f"{dimension.value.lower()}_h"] = billed_s / SECONDS_PER_HOUR
            break
        return billed

    def rounded_lines(self, tariff: Tariff) -> dict[Dimension, tuple[Decimal, Decimal]]:
        """Per dimension, the rounded (net, gross) amounts after step sizes; no min/max."""
        work = self.copy()
        work._apply_step_sizes()
        return work._rounded(tariff)

    def _rounded(self, tariff: Tariff) -> dict[Dimension, tuple[Decimal, Decimal]]:
        stated: dict[tuple[Dimension, Decimal], Decimal] = {}
        for (dimension, component), qty in self.quantities.items():
            amount = qty * component.price
            if dimension is not Dimension.ENERGY:
                amount /= SECONDS_PER_HOUR
            key = (dimension, _vat(component))
            stated[key] = stated.get(key, Decimal(0)) + amount
        if self.flat is not None:
            stated[(Dimension.FLAT, _vat(self.flat))] = self.flat.price
        # per dimension: the sum over its VAT rates of the rounded amounts (net, gross)
        sums: dict[Dimension, tuple[Decimal, Decimal]] = {}
        for (dimension, vat), amount in stated.items():
            net, gross = _both_sides(amount, vat, tariff.tax_included, tariff.currency)
            before = sums.get(dimension)
            sums[dimension] = (
                (net, gross) if before is None else (before[0] + net, before[1] + gross)
            )
        return sums

    def result(
        self,
        tariff: Tariff,
        total_time_h: Decimal,
        bounds: tuple[Price | None, Price | None] | None = None,
    ) -> CostBreakdown:
        """The cost so far. ``bounds`` (from :func:`limit_bounds`) may be passed in by callers
        that ask often, to skip recomputing them."""
        work = self.copy()  # step_size extras must not leak into the running sums
        billed = work._apply_step_sizes()
        currency = tariff.currency
        sums = work._rounded(tariff)
        lines = {
            d: Price(Money(net, currency), Money(gross, currency))
            for d, (net, gross) in sums.items()
        }
        subtotal_net = sum((net for net, _ in sums.values()), Decimal(0))
        subtotal_gross = sum((gross for _, gross in sums.values()), Decimal(0))
        low, high = limit_bounds(tariff) if bounds is None else bounds
        total_net, total_gross = subtotal_net, subtotal_gross
        if low is not None:
            total_net = max(total_net, low.excl_vat.amount)
            total_gross = max(total_gross, low.incl_vat.amount)
        if high is not None:
            total_net = min(total_net, high.excl_vat.amount)
            total_gross = min(total_gross, high.incl_vat.amount)
        adjustment = None
        if (total_net, total_gross) != (subtotal_net, subtotal_gross):
            adjustment = Price(
                Money(total_net - subtotal_net, currency),
                Money(total_gross - subtotal_gross, currency),
            )
        return CostBreakdown(
            currency=currency,
            total_cost=Price(Money(total_net, currency), Money(total_gross, currency)),
            total_fixed_cost=lines.get(Dimension.FLAT),
            total_energy_cost=lines.get(Dimension.ENERGY),
            total_time_cost=lines.get(Dimension.TIME),
            total_parking_cost=lines.get(Dimension.PARKING_TIME),
            price_limit_adjustment=adjustment,
            total_energy=work.energy_kwh,
            total_time=total_time_h,
            total_parking_time=work.parking_s / SECONDS_PER_HOUR,
            billed=billed,
        )


def _both_sides(
    stated: Decimal, vat: Decimal, mode: TaxIncluded, currency: str
) -> tuple[Decimal, Decimal]:
    """One amount as the tariff states it -> (net, gross), each rounded by THE rule."""
    if mode is TaxIncluded.NO:
        net, gross = stated, stated * (1 + vat / _HUNDRED)
    elif mode is TaxIncluded.YES:
        net, gross = stated / (1 + vat / _HUNDRED), stated
    else:  # N/A: no tax applies
        net = gross = stated
    return round_amount(net, currency), round_amount(gross, currency)


def limit_bounds(tariff: Tariff) -> tuple[Price | None, Price | None]:
    """min_price and max_price as rounded Prices. A bound given only before tax gets its
    after-tax side at the tariff's lowest VAT rate (never more than the operator stated).
    Where a derived minimum would exceed the maximum, the maximum wins: it is the promise
    made to the driver."""
    if tariff.min_price is None and tariff.max_price is None:
        return None, None  # most tariffs: nothing to derive
    lowest = min(tariff.vat_rates(), default=Decimal(0))
    if tariff.tax_included is TaxIncluded.NOT_APPLICABLE:
        lowest = Decimal(0)

    def bound(limit: PriceLimit | None) -> Price | None:
        if limit is None:
            return None
        incl = limit.incl_vat
        if incl is None:
            incl = limit.excl_vat * (1 + lowest / _HUNDRED)
        currency = tariff.currency
        return Price(Money(limit.excl_vat, currency).rounded(), Money(incl, currency).rounded())

    low, high = bound(tariff.min_price), bound(tariff.max_price)
    if low is not None and high is not None:
        low = Price(min(low.excl_vat, high.excl_vat), min(low.incl_vat, high.incl_vat))
    return low, high


def state_at(
    period: ChargingPeriod, tz: ZoneInfo, session_start: datetime, energy_before: Decimal
) -> State:
    """The restriction state at a period's start; power/current: the period's maximum."""
    power = period.max_power_kw if period.max_power_kw is not None else period.min_power_kw
    current = period.max_current_a if period.max_current_a is not None else period.min_current_a
    elapsed_us = microseconds(period.start - session_start)
    return State(
        local=period.start.astimezone(tz),
        energy_kwh=energy_before,
        elapsed_s=Decimal(elapsed_us).scaleb(-6),
        power_kw=power,
        current_a=current,
    )


def price_session(
    tariff: Tariff,
    periods: Sequence[ChargingPeriod],
    end: datetime,
    tz: ZoneInfo,
    *,
    session_start: datetime | None = None,
) -> CostBreakdown:
    """Cost of a session from its charging periods (ordered, OCPI CDR shape), ending at
    ``end``. Restrictions are read in ``tz``. ``session_start`` defaults to the first
    period's start; duration restrictions and ``total_time`` count from it."""
    if end.tzinfo is None:
        raise ValueError("session end has no time zone")
    start = session_start or (periods[0].start if periods else end)
    totals = Totals()
    previous = start
    for index, period in enumerate(periods):
        if period.start < previous:
            before = "the session start" if index == 0 else "the period before it"
            raise ValueError(f"charging_periods[{index}] starts before {before}")
        if period.start > end:
            raise ValueError(f"charging_periods[{index}] starts after the session end")
        previous = period.start
        totals.add(period, select(tariff, state_at(period, tz, start, totals.energy_kwh)))
    if end < start:
        raise ValueError("session end is before its start")
    return totals.result(tariff, hours_from_us(microseconds(end - start)))
