"""The running cost of closed periods plus a growing open one, a few Decimal steps per reading.

:meth:`kiosk.tariff.engine.Totals.result` prices a whole session: it copies the sums, applies
the step sizes, rounds every (dimension, VAT rate) line and builds Money values. While one
period grows, only the lines of the dimensions it adds to can change; everything else is
rounded once, when the period opens (:class:`RunningCost`), and each reading redoes only the
changing lines with the engine's own operations in the engine's own order, so the result is
the one ``Totals.result`` gives (the property tests compare them after every reading).

The per-reading total (:meth:`RunningCost.gross_minor`) goes further: with Wh and µs as
integers, the changing lines are exact integers in a fixed decimal scale, so the gross total in
minor units is a few integer operations. That path is taken only where it provably gives the
Decimal result: every Decimal step the engine would take is exact (non-negative terms, fewer
than 27 digits, time amounts that divide by 3600 without remainder), the context keeps 28
digits, and half-up on a non-negative exact value is integer rounding. Otherwise, and for the
lines and the net side, the Decimal path above is used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, Inexact, getcontext, localcontext

from kiosk.money import ROUNDING, minor_unit_exponent
from kiosk.tariff.engine import SECONDS_PER_HOUR, Price, Totals, _vat
from kiosk.tariff.model import Dimension, PriceComponent, Tariff, TaxIncluded
from kiosk.tariff.restrictions import Selection

_THOUSAND = Decimal(1000)
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)
LINE_NAMES = {
    Dimension.ENERGY: "energy",
    Dimension.TIME: "time",
    Dimension.PARKING_TIME: "parking",
    Dimension.FLAT: "fixed",
}
_RECEIPT_ORDER = (Dimension.ENERGY, Dimension.TIME, Dimension.PARKING_TIME, Dimension.FLAT)
_EXACT_BELOW = 10**26  # integers below this have <= 26 digits: every Decimal step is exact
_QTY_BELOW = 10**15  # Wh or µs: a ceiling division of such a quantity by a step is exact


@dataclass(frozen=True, slots=True)
class _Variable:
    """The line of one dimension the open period adds to, as the engine computes it."""

    dimension: Dimension
    component: PriceComponent
    closed_qty: Decimal  # what the component priced in the closed periods
    others: Decimal  # what the dimension's other components priced (constant)
    step: int  # 0: no step rounding applies to this dimension now
    prefix: Decimal | None  # the (dimension, VAT) line's amounts summed before this one
    suffix: tuple[Decimal, ...]  # and after it, in the engine's order
    vat: Decimal
    energy: bool  # the ENERGY dimension (kWh), else a time one (seconds)
    price: Decimal
    factor: Decimal  # 1 + vat / 100, as engine._both_sides computes it


@dataclass(frozen=True, slots=True)
class _IntVariable:
    """A :class:`_Variable` in integers: quantities in Wh (energy) or µs (time).

    The line's stated amount, scaled by 10**scale, is ``qty * price * shift + constant`` for
    energy and ``qty * price // 9 * 25 * shift + constant`` for time (``/ 3600`` is ``* 25 /
    9`` and a shift of 10**4); times ``factor`` it is the gross, rounded to minor units by
    ``(gross + unit // 2) // unit``."""

    energy: bool
    closed: int
    others: int
    step: int  # 0: no step rounding
    price: int
    shift: int
    constant: int  # the (dimension, VAT) line's other amounts, prefix + suffix
    factor: int
    unit: int


@dataclass(frozen=True, slots=True)
class _Plan:
    variables: tuple[_Variable, ...]
    fixed: dict[Dimension, tuple[Decimal, Decimal]]  # rounded (net, gross) of unchanging lines
    fixed_net: Decimal
    fixed_gross: Decimal
    total: _Total | None  # the gross in minor units; None: the Decimal path only


class RunningCost:
    """The cost of ``closed`` plus an open period priced with ``selection``; ``at(wh, us)``
    gives the total for the open period's energy (Wh) and duration (µs) so far."""

    def __init__(
        self,
        tariff: Tariff,
        closed: Totals,
        selection: Selection,
        charging: bool,
        bounds: tuple[Price | None, Price | None],
    ) -> None:
        self._tariff = tariff
        self._closed = closed
        self._selection = selection
        self._charging = charging
        low, high = bounds
        self._mode: TaxIncluded = tariff.tax_included
        self._plans: dict[tuple[bool, bool], _Plan] = {}
        self._quantum = Decimal(1).scaleb(-minor_unit_exponent(tariff.currency))
        self._low = None if low is None else (low.excl_vat.amount, low.incl_vat.amount)
        self._high = None if high is None else (high.excl_vat.amount, high.incl_vat.amount)
        self._results: tuple[_Plan, list[tuple[Decimal, Decimal]]] | None = None
        self._reading: tuple[int, int] | None = None  # the last (energy_wh, duration_us)
        self._steady: _Total | None = None  # the integer total while energy and time grow
        self._minor = minor_unit_exponent(tariff.currency)
        self._low_minor = None if low is None else _units(low.incl_vat.amount, self._minor)
        self._high_minor = None if high is None else _units(high.incl_vat.amount, self._minor)
        self._bounds_exact = (low is None or self._low_minor is not None) and (
            high is None or self._high_minor is not None
        )
        self.subtotal = (_ZERO, _ZERO)
        self.total = (_ZERO, _ZERO)

    def gross_minor(self, energy_wh: int, duration_us: int) -> int:
        """The total incl. VAT in minor units, what ``at`` gives as its gross side."""
        self._reading = (energy_wh, duration_us)
        self._results = None
        steady = self._steady
        if steady is not None and energy_wh and duration_us:
            gross = steady(energy_wh, duration_us)
            if gross is not None:
                return gross
        key = (energy_wh != 0, duration_us != 0)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(*key)
            if key == (True, True):
                steady = self._steady = plan.total
        gross = None if plan.total is None else plan.total(energy_wh, duration_us)
        if gross is None:
            return self._decimal_minor(energy_wh, duration_us)
        return gross

    def _decimal_minor(self, energy_wh: int, duration_us: int) -> int:
        return int(self.at(energy_wh, duration_us)[1].scaleb(self._minor))

    def at(self, energy_wh: int, duration_us: int) -> tuple[Decimal, Decimal]:
        """The total (net, gross) after min/max price (:meth:`line_amounts` has its lines)."""
        key = (energy_wh != 0, duration_us != 0)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(*key)
        self._reading = (energy_wh, duration_us)
        net, gross = plan.fixed_net, plan.fixed_gross
        results = []
        quantum, mode = self._quantum, self._mode
        for v in plan.variables:
            if v.energy:
                qty = v.closed_qty + Decimal(energy_wh).scaleb(-3)
                if v.step:
                    wh = (v.others + qty) * _THOUSAND
                    billed = (wh / v.step).to_integral_value(rounding=ROUND_CEILING) * v.step
                    if billed != wh:
                        qty += (billed - wh) / _THOUSAND
                amount = qty * v.price
            else:
                # seconds(hours_from_us(us)) is us scaled by 10**-6 exactly (µs resolution)
                qty = v.closed_qty + Decimal(duration_us).scaleb(-6)
                if v.step:
                    total_s = v.others + qty
                    billed = (total_s / v.step).to_integral_value(rounding=ROUND_CEILING) * v.step
                    if billed != total_s:
                        qty += billed - total_s
                amount = qty * v.price / SECONDS_PER_HOUR
            if v.prefix is not None:
                amount = v.prefix + amount
            for later in v.suffix:
                amount += later
            # engine._both_sides, inlined: the same operations on the same values
            if mode is TaxIncluded.NO:
                n, g = amount, amount * v.factor
            elif mode is TaxIncluded.YES:
                n, g = amount / v.factor, amount
            else:
                n = g = amount
            n = n.quantize(quantum, rounding=ROUNDING)  # THE rule (kiosk.money.round_amount)
            g = g.quantize(quantum, rounding=ROUNDING)
            results.append((n, g))
            net += n
            gross += g
        self._results = (plan, results)
        self.subtotal = (net, gross)
        if self._low is not None:
            net = max(net, self._low[0])
            gross = max(gross, self._low[1])
        if self._high is not None:
            net = min(net, self._high[0])
            gross = min(gross, self._high[1])
        self.total = (net, gross)
        return self.total

    def line_amounts(self) -> tuple[tuple[str, Decimal, Decimal], ...]:
        """The last ``at``'s non-empty lines (name, net, gross) in receipt order, the price
        limit adjustment last; they add up to its total."""
        if self._results is None:
            if self._reading is None:
                return ()
            self.at(*self._reading)
        assert self._results is not None
        plan, results = self._results
        lines = dict(plan.fixed)
        for v, (net, gross) in zip(plan.variables, results, strict=True):
            before = lines.get(v.dimension, (_ZERO, _ZERO))
            lines[v.dimension] = (before[0] + net, before[1] + gross)
        out = [(LINE_NAMES[d], *lines[d]) for d in _RECEIPT_ORDER if d in lines]
        if self.total != self.subtotal:
            out.append(
                ("price_limit", self.total[0] - self.subtotal[0], self.total[1] - self.subtotal[1])
            )
        return tuple(out)

    def _plan(self, energy_on: bool, time_on: bool) -> _Plan:
        """Which lines the open period changes, and the rest rounded once."""
        work = self._closed.copy()
        sel = self._selection
        growing: list[tuple[Dimension, PriceComponent]] = []
        timed = sel.time if self._charging else sel.parking
        dim_t = Dimension.TIME if self._charging else Dimension.PARKING_TIME
        if work.flat is None and sel.flat is not None:
            work.flat = sel.flat
        for dimension, component, on in (
            (Dimension.ENERGY, sel.energy, energy_on),
            (dim_t, timed, time_on),
        ):
            if component is None or not on:
                continue
            work.quantities.setdefault((dimension, component), _ZERO)  # insertion order as add()
            work.last[dimension] = component
            growing.append((dimension, component))
        stepped: set[Dimension] = set()
        if Dimension.ENERGY in work.last and work.last[Dimension.ENERGY].step_size > 0:
            stepped.add(Dimension.ENERGY)
        for dimension in (Dimension.PARKING_TIME, Dimension.TIME):
            if dimension in work.last:
                if work.last[dimension].step_size > 0:
                    stepped.add(dimension)
                break
        growing_dims = {d for d, _ in growing}
        # the unchanging lines: the engine's result for them alone
        fixed_totals = Totals()
        fixed_totals.flat = work.flat
        fixed_totals.last = {d: c for d, c in work.last.items() if d not in growing_dims}
        if Dimension.PARKING_TIME in growing_dims:  # parking is priced: time is not rounded up
            fixed_totals.last.pop(Dimension.TIME, None)
        fixed_vat: set[tuple[Dimension, Decimal]] = set()
        for dimension, component in growing:
            fixed_vat.add((dimension, _vat(component)))
        fixed_totals.quantities = {
            (d, c): q
            for (d, c), q in work.quantities.items()
            if d not in growing_dims or (d, _vat(c)) not in fixed_vat
        }
        fixed = fixed_totals.rounded_lines(self._tariff)
        variables: list[_Variable] = []
        for dimension, component in growing:
            vat = _vat(component)
            same_line = [
                (c, q) for (d, c), q in work.quantities.items() if d is dimension and _vat(c) == vat
            ]
            index = next(i for i, (c, _) in enumerate(same_line) if c == component)
            amounts = [_amount(dimension, c, q) for c, q in same_line]
            prefix: Decimal | None = None
            for a in amounts[:index]:
                prefix = a if prefix is None else prefix + a
            others = sum(
                (q for (d, c), q in work.quantities.items() if d is dimension and c != component),
                _ZERO,
            )
            variables.append(
                _Variable(
                    dimension=dimension,
                    component=component,
                    closed_qty=work.quantities[(dimension, component)],
                    others=others,
                    step=component.step_size if dimension in stepped else 0,
                    prefix=prefix,
                    suffix=tuple(amounts[index + 1 :]),
                    vat=vat,
                    energy=dimension is Dimension.ENERGY,
                    price=component.price,
                    factor=1 + vat / _HUNDRED,
                )
            )
        fixed_net = sum((n for n, _ in fixed.values()), _ZERO)
        fixed_gross = sum((g for _, g in fixed.values()), _ZERO)
        fixed_minor = _units(fixed_gross, self._minor)
        exact = fixed_minor is not None and self._bounds_exact
        ints = self._integer_plan(variables) if exact else None
        total = None
        if ints is not None and fixed_minor is not None:
            total = _total(ints, fixed_minor, self._low_minor, self._high_minor)
        return _Plan(tuple(variables), fixed, fixed_net, fixed_gross, total)

    def _integer_plan(self, variables: list[_Variable]) -> tuple[_IntVariable, ...] | None:
        """The variables in integers, or None where that would not repeat the engine exactly."""
        if getcontext().prec < 28 or ROUNDING != ROUND_HALF_UP:
            return None
        out = []
        for v in variables:
            qty_scale = 3 if v.energy else 6
            closed = _units(v.closed_qty, qty_scale)
            others = _units(v.others, qty_scale)
            price_scale = max(0, -_exponent(v.price))
            price = _units(v.price, price_scale)
            terms = (*([] if v.prefix is None else [v.prefix]), *v.suffix)
            if any(term < 0 for term in terms):
                return None
            try:
                with localcontext() as ctx:  # the engine adds these same values one by one
                    ctx.traps[Inexact] = True
                    constant = sum(terms, _ZERO)
            except Inexact:
                return None
            if self._mode is TaxIncluded.NO:
                factor_scale = max(0, -_exponent(v.factor))
                factor = _units(v.factor, factor_scale)
            else:
                factor_scale, factor = 0, 1
            amount_scale = price_scale + (3 if v.energy else 10)
            scale = max(amount_scale, -_exponent(constant))
            constant_units = _units(constant, scale)
            unit_exponent = scale + factor_scale - self._minor
            if (
                closed is None
                or others is None
                or price is None
                or factor is None
                or constant_units is None
                or v.price < 0
                or closed >= _QTY_BELOW
                or others >= _QTY_BELOW
                or unit_exponent < 0
            ):
                return None
            out.append(
                _IntVariable(
                    energy=v.energy,
                    closed=closed,
                    others=others,
                    step=v.step * (1 if v.energy else 1_000_000),
                    price=price,
                    shift=10 ** (scale - amount_scale),
                    constant=constant_units,
                    factor=factor,
                    unit=10**unit_exponent,
                )
            )
        return tuple(out)


_Line = Callable[[int, int], "int | None"]  # (Wh, µs) of the open period -> minor units
_Total = _Line


def _line(v: _IntVariable, base: int = 0) -> _Line:
    """``base`` plus one changing line's gross in minor units; None where the integers would
    not be exact."""
    closed, others, step, price, shift = v.closed, v.others, v.step, v.price, v.shift
    constant, factor, unit = v.constant, v.factor, v.unit
    half = unit // 2

    def energy_line(energy_wh: int, duration_us: int) -> int | None:
        qty = closed + energy_wh
        if qty >= _QTY_BELOW:
            return None
        if step:
            total = others + qty
            qty += -(-total // step) * step - total
        amount = (qty * price * shift + constant) * factor
        if amount >= _EXACT_BELOW:
            return None
        return base + (amount + half) // unit

    def time_line(energy_wh: int, duration_us: int) -> int | None:
        qty = closed + duration_us
        if qty >= _QTY_BELOW:
            return None
        if step:
            total = others + qty
            qty += -(-total // step) * step - total
        scaled = qty * price
        if scaled % 9:  # the engine's amount / 3600 does not terminate: not exact
            return None
        amount = (scaled // 9 * 25 * shift + constant) * factor
        if amount >= _EXACT_BELOW:
            return None
        return base + (amount + half) // unit

    return energy_line if v.energy else time_line


def _total(
    variables: tuple[_IntVariable, ...], fixed: int, low: int | None, high: int | None
) -> _Total:
    """The changing lines plus the unchanging ones, then min/max price, in minor units."""
    if len(variables) == 1 and low is None and high is None:
        return _line(variables[0], fixed)  # the common case: one call per reading
    lines = [_line(v) for v in variables]

    def total(energy_wh: int, duration_us: int) -> int | None:
        gross = fixed
        for each in lines:
            line = each(energy_wh, duration_us)
            if line is None:
                return None
            gross += line
        if low is not None and gross < low:
            gross = low
        if high is not None and gross > high:
            gross = high
        return gross

    return total


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # prices and quantities are finite
    return exponent


def _units(value: Decimal, scale: int) -> int | None:
    """value * 10**scale as an int, or None if that is not a whole number."""
    scaled = value.scaleb(scale)
    whole = int(scaled)
    return whole if whole == scaled else None


def _amount(dimension: Dimension, component: PriceComponent, qty: Decimal) -> Decimal:
    amount = qty * component.price
    return amount if dimension is Dimension.ENERGY else amount / SECONDS_PER_HOUR
