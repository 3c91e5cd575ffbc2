"""Properties of the pricing engine over generated tariffs and sessions (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tariff_data.helpers import BERLIN

from kiosk.tariff import (
    ChargingPeriod,
    CostBreakdown,
    LiveCostCalculator,
    Tariff,
    parse_tariff,
    price_session,
)
from kiosk.tariff.engine import limit_bounds

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STARTS = [
    datetime(2025, 3, 4, 16, 30, tzinfo=BERLIN),  # before an evening boundary
    datetime(2025, 3, 30, 1, 30, tzinfo=BERLIN),  # clocks go forward at 02:00
    datetime(2025, 10, 26, 1, 45, tzinfo=BERLIN),  # clocks go back at 03:00
    datetime(2025, 1, 5, 23, 50, tzinfo=BERLIN),  # Sunday to Monday
]
DIMENSIONS = ["ENERGY", "TIME", "PARKING_TIME", "FLAT"]
ENERGY_STEPS = [0, 1, 100, 500, 1000]
TIME_STEPS = [0, 1, 60, 300, 900]


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-2))


@st.composite
def components(draw: st.DrawFn, steps: bool) -> list[dict[str, Any]]:
    kinds = draw(st.lists(st.sampled_from(DIMENSIONS), min_size=1, max_size=3, unique=True))
    out = []
    for kind in kinds:
        component: dict[str, Any] = {"type": kind, "price": draw(cents(0, 300))}
        vat = draw(st.sampled_from([None, 0, 7, 19, 20]))
        if vat is not None:
            component["vat"] = vat
        choices = ENERGY_STEPS if kind == "ENERGY" else TIME_STEPS
        component["step_size"] = draw(st.sampled_from(choices)) if steps else 0
        out.append(component)
    return out


@st.composite
def restrictions(draw: st.DrawFn) -> dict[str, Any]:
    r: dict[str, Any] = {}
    if draw(st.booleans()):
        r["start_time"] = draw(st.sampled_from(["00:00", "02:30", "16:45", "17:00", "23:55"]))
    if draw(st.booleans()):
        r["end_time"] = draw(st.sampled_from(["00:00", "02:45", "17:10", "21:00"]))
    if draw(st.booleans()):
        r["day_of_week"] = draw(
            st.lists(st.sampled_from(["MONDAY", "SUNDAY", "TUESDAY"]), min_size=1, unique=True)
        )
    low, high = sorted(draw(st.lists(st.integers(0, 40), min_size=2, max_size=2, unique=True)))
    if draw(st.booleans()):
        r["min_kwh"] = low
    if draw(st.booleans()):
        r["max_kwh"] = high
    if draw(st.booleans()):
        r["start_date"] = draw(st.sampled_from(["2025-01-06", "2025-03-05", "2025-10-26"]))
    if draw(st.booleans()):
        r["end_date"] = draw(st.sampled_from(["2025-03-31", "2025-10-27", "2026-01-01"]))
    if r.get("start_date", "") >= r.get("end_date", "9"):
        del r["end_date"]
    low, high = sorted(draw(st.lists(st.integers(0, 64), min_size=2, max_size=2, unique=True)))
    if draw(st.booleans()):
        r["min_current"] = low
    if draw(st.booleans()):
        r["max_current"] = high
    low, high = sorted(draw(st.lists(st.integers(0, 60), min_size=2, max_size=2, unique=True)))
    if draw(st.booleans()):
        r["min_power"] = low
    if draw(st.booleans()):
        r["max_power"] = high
    low, high = sorted(draw(st.lists(st.integers(0, 14_400), min_size=2, max_size=2, unique=True)))
    if draw(st.booleans()):
        r["min_duration"] = low
    if draw(st.booleans()):
        r["max_duration"] = high
    return r


@st.composite
def tariffs(draw: st.DrawFn, restricted: bool = True, steps: bool = True) -> Tariff:
    elements = []
    for _ in range(draw(st.integers(1, 4))):
        element: dict[str, Any] = {"price_components": draw(components(steps))}
        if restricted and draw(st.booleans()):
            element["restrictions"] = draw(restrictions())
        elements.append(element)
    obj: dict[str, Any] = {"id": "generated", "currency": "EUR", "elements": elements}
    tax = draw(st.sampled_from([None, "NO", "YES", "N/A"]))
    if tax is not None:
        obj["tax_included"] = tax
    limits = sorted(draw(st.lists(cents(0, 4000), min_size=2, max_size=2)))
    if draw(st.booleans()):
        obj["min_price"] = {"excl_vat": limits[0]}
    if draw(st.booleans()):
        obj["max_price"] = {"excl_vat": limits[1], "incl_vat": limits[1] * Decimal("1.19")}
    return parse_tariff(obj)


# one reading: seconds and Wh since the previous one, power W, current A, charging
READING = st.tuples(
    st.integers(0, 1800),
    st.integers(0, 4000),
    st.sampled_from([None, 3700.0, 11_000.0, 22_000.0, 50_000.0]),
    st.sampled_from([None, 6.0, 16.0, 31.9, 48.0]),
    st.booleans(),
)
Reading = tuple[int, int, float | None, float | None, bool]


Replayed = list[tuple[datetime, CostBreakdown, list[ChargingPeriod]]]


def replay(tariff: Tariff, start: datetime, readings: list[Reading]) -> Replayed:
    """Feed the readings; after each, the live result and the periods built so far. The
    per-reading figures (total in minor units, cost lines) must be the full breakdown's."""
    calc = LiveCostCalculator(tariff, BERLIN, start, start_energy_wh=5_000_000)
    # step in UTC: aware datetime arithmetic in Europe/Berlin is wall-clock arithmetic
    at, wh, results = start.astimezone(UTC), 5_000_000, []
    for seconds, delta_wh, power, current, charging in readings:
        at += timedelta(seconds=seconds)
        wh += delta_wh if charging else 0
        minor = calc.add(at, wh, power_w=power, current_a=current, charging=charging)
        lines = calc.line_amounts()
        live = calc.last
        assert live is not None
        assert minor == live.total_minor()
        assert lines == tuple(
            (name, p.excl_vat.amount, p.incl_vat.amount) for name, p in live.lines()
        )
        results.append((at, live, calc.periods()))
    return results


def assert_consistent(tariff: Tariff, cost: CostBreakdown) -> None:
    lines = [price for _, price in cost.lines()]
    assert sum((p.excl_vat.amount for p in lines), Decimal(0)) == cost.total_cost.excl_vat.amount
    assert sum((p.incl_vat.amount for p in lines), Decimal(0)) == cost.total_cost.incl_vat.amount
    low, high = limit_bounds(tariff)
    total = cost.total_cost
    if low is not None:
        assert total.excl_vat >= low.excl_vat
        assert total.incl_vat >= low.incl_vat
    if high is not None:
        assert total.excl_vat <= high.excl_vat
        assert total.incl_vat <= high.incl_vat


@SETTINGS
@given(tariffs(), st.sampled_from(STARTS), st.lists(READING, min_size=1, max_size=20))
def test_incremental_equals_final_after_every_reading(
    tariff: Tariff, start: datetime, readings: list[Reading]
) -> None:
    for at, live, periods in replay(tariff, start, readings):
        assert price_session(tariff, periods, at, BERLIN) == live
        assert_consistent(tariff, live)


@SETTINGS
@given(tariffs(steps=False), st.sampled_from(STARTS), st.lists(READING, min_size=2, max_size=20))
def test_cost_never_decreases_as_energy_and_time_grow(
    tariff: Tariff, start: datetime, readings: list[Reading]
) -> None:
    results = replay(tariff, start, readings)
    for (_, before, _), (_, after, _) in itertools.pairwise(results):
        assert after.total_cost.excl_vat >= before.total_cost.excl_vat
        assert after.total_cost.incl_vat >= before.total_cost.incl_vat
        assert_consistent(tariff, after)


@SETTINGS
@given(
    tariffs(restricted=False),
    st.lists(st.tuples(st.integers(0, 30_000), st.integers(0, 7200), st.booleans()), min_size=1),
    st.data(),
)
def test_splitting_a_period_with_identical_prices_changes_nothing(
    tariff: Tariff, spans: list[tuple[int, int, bool]], data: st.DataObject
) -> None:
    start = STARTS[0].astimezone(UTC)
    periods, at = [], start
    for wh, seconds, parked in spans:
        hours = Decimal(seconds) / 3600
        periods.append(
            ChargingPeriod(
                start=at,
                energy_kwh=Decimal(wh).scaleb(-3),
                time_h=Decimal(0) if parked else hours,
                parking_h=hours if parked else Decimal(0),
            )
        )
        at += timedelta(seconds=seconds)
    whole = price_session(tariff, periods, at, BERLIN)

    index = data.draw(st.integers(0, len(spans) - 1))
    wh, seconds, parked = spans[index]
    cut_s = data.draw(st.integers(0, seconds))
    cut_wh = data.draw(st.integers(0, wh))
    first_h, second_h = Decimal(cut_s) / 3600, Decimal(seconds - cut_s) / 3600
    original = periods[index]
    halves = [
        ChargingPeriod(
            start=original.start,
            energy_kwh=Decimal(cut_wh).scaleb(-3),
            time_h=Decimal(0) if parked else first_h,
            parking_h=first_h if parked else Decimal(0),
        ),
        ChargingPeriod(
            start=original.start + timedelta(seconds=cut_s),
            energy_kwh=Decimal(wh - cut_wh).scaleb(-3),
            time_h=Decimal(0) if parked else second_h,
            parking_h=second_h if parked else Decimal(0),
        ),
    ]
    split = price_session(tariff, [*periods[:index], *halves, *periods[index + 1 :]], at, BERLIN)
    assert split.total_cost == whole.total_cost
    assert split.lines() == whole.lines()
    assert_consistent(tariff, whole)


@st.composite
def fine_tariffs(draw: st.DrawFn) -> Tariff:
    """Unrestricted tariffs with sub-cent prices, in currencies with 0, 2 and 3 decimals: the
    per-reading total is computed in integers where that is exact, in Decimal elsewhere."""
    components = []
    for kind in draw(st.lists(st.sampled_from(DIMENSIONS), min_size=1, max_size=4, unique=True)):
        component: dict[str, Any] = {
            "type": kind,
            "price": Decimal(draw(st.integers(0, 50_000))).scaleb(-draw(st.integers(0, 4))),
            "step_size": draw(st.sampled_from(ENERGY_STEPS if kind == "ENERGY" else TIME_STEPS)),
        }
        vat = draw(st.sampled_from([None, 0, 7, 7.7, 19]))
        if vat is not None:
            component["vat"] = Decimal(str(vat))
        components.append(component)
    elements = [{"price_components": components}]
    if draw(st.booleans()):  # a second element, so prices are summed per (dimension, VAT)
        elements.append({"price_components": draw(tariff_components())})
    obj: dict[str, Any] = {
        "id": "fine",
        "currency": draw(st.sampled_from(["EUR", "JPY", "KWD"])),
        "elements": elements,
        "tax_included": draw(st.sampled_from(["NO", "YES", "N/A"])),
    }
    if draw(st.booleans()):
        obj["max_price"] = {"excl_vat": Decimal(draw(st.integers(0, 10**9))).scaleb(-2)}
    return parse_tariff(obj)


def tariff_components() -> st.SearchStrategy[list[dict[str, Any]]]:
    return components(steps=True)


@SETTINGS
@given(
    fine_tariffs(),
    st.lists(
        st.tuples(
            st.integers(0, 10**8),  # seconds: µs totals cross the integer path's bound
            st.integers(0, 10**12),  # Wh
            st.booleans(),
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_running_total_equals_full_recompute_after_every_reading(
    tariff: Tariff, readings: list[tuple[int, int, bool]]
) -> None:
    start = STARTS[0].astimezone(UTC)
    calc = LiveCostCalculator(tariff, BERLIN, start, start_energy_wh=0)
    at, wh = start, 0
    for seconds, delta_wh, charging in readings:
        at += timedelta(seconds=seconds)
        wh += delta_wh if charging else 0
        minor = calc.add(at, wh, charging=charging)
        full = price_session(tariff, calc.periods(), at, BERLIN)
        assert minor == full.total_minor()
        assert calc.last == full
