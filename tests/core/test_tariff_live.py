"""The live calculator: where it cuts periods, and that live equals final at every reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from math import inf, nan
from zoneinfo import ZoneInfo

import pytest
from tariff_data.helpers import BERLIN, eur, fixture, tariff_from

from kiosk.tariff import CostBreakdown, LiveCostCalculator, Tariff, price_session


def feed(
    calc: LiveCostCalculator,
    start: datetime,
    every_s: int,
    count: int,
    *,
    step_wh: int,
    energy_wh: int,
    **kw: object,
) -> tuple[datetime, int, CostBreakdown]:
    """Feed evenly spaced readings; check live == final after each one."""
    at, wh = start, energy_wh
    result = None
    for _ in range(count):
        at += timedelta(seconds=every_s)
        wh += step_wh
        result = calc.add_reading(at, wh, **kw)  # type: ignore[arg-type]
        assert price_session(calc.tariff, calc.periods(), at, calc.tz) == result
    assert result is not None
    return at, wh, result


def starts(calc: LiveCostCalculator, tz: ZoneInfo) -> list[str]:
    return [p.start.astimezone(tz).strftime("%H:%M:%S") for p in calc.periods()]


def test_peak_starting_mid_session_cuts_at_17_00_local() -> None:
    tariff = fixture("research_peak")
    start = datetime(2025, 3, 4, 16, 40, tzinfo=BERLIN)
    calc = LiveCostCalculator(tariff, BERLIN, start, start_energy_wh=1_000_000)
    # readings every 7 minutes, 1617 Wh each (about 13.9 kW): 16:47, 16:54, 17:01, ...
    at, wh, _ = feed(calc, start, 420, 6, step_wh=1617, energy_wh=1_000_000, power_w=13_860.0)
    assert starts(calc, BERLIN) == ["16:40:00", "17:00:00"]
    first, second = calc.periods()
    # energy at 17:00 interpolated in the 16:54-17:01 reading: 2 x 1617 + 1617 x 6/7 floored
    assert first.energy_kwh == Decimal("4.620")
    assert second.energy_kwh == Decimal(6 * 1617 - 4620).scaleb(-3)
    assert first.time_h == Decimal(1) / 3
    # then the car is full and stays parked for 12 minutes
    _, _, result = feed(calc, at, 60, 12, step_wh=0, energy_wh=wh, charging=False)
    assert calc.periods()[-1].parking_h == Decimal("0.2")
    assert result.total_parking_cost == eur("1.50", "1.79")  # 12 -> 15 min at 6.00/h


def test_kwh_threshold_is_cut_exactly_where_the_energy_reaches_it() -> None:
    tariff = tariff_from(
        """{"id": "t", "currency": "EUR", "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.50, "vat": 19, "step_size": 1}],
         "restrictions": {"max_kwh": 10}},
        {"price_components": [{"type": "ENERGY", "price": 0.40, "vat": 19, "step_size": 1}]}]}"""
    )
    start = datetime(2025, 1, 6, 10, tzinfo=UTC)
    calc = LiveCostCalculator(tariff, ZoneInfo("UTC"), start, 0)
    # 11.4 kWh in six 5-minute readings
    _, _, result = feed(calc, start, 300, 6, step_wh=1900, energy_wh=0, power_w=22_800.0)
    first, second = calc.periods()
    assert first.energy_kwh == Decimal("10.000")
    assert second.energy_kwh == Decimal("1.400")
    # 10 kWh is reached 500/1900 into the 25-30 min reading: 78.947368... s, next µs
    assert second.start - start == timedelta(minutes=25, microseconds=78_947_369)
    assert result.total_energy_cost == eur("5.56", "6.62")  # 5.00 + 0.56; 5.95 + 0.6664


def test_power_bands_start_new_periods() -> None:
    tariff = fixture("spec_max_power")
    start = datetime(2025, 1, 6, 10, tzinfo=UTC)
    calc = LiveCostCalculator(tariff, ZoneInfo("UTC"), start, 0)
    # 1 kWh at 6 kW, 40 kWh at 48 kW, 0.33 kWh at 3.96 kW, 0.17 kWh at 10.2 kW (< 16 kW)
    at, wh, _ = feed(calc, start, 60, 10, step_wh=100, energy_wh=0, power_w=6000.0)
    at, wh, _ = feed(calc, at, 60, 50, step_wh=800, energy_wh=wh, power_w=48_000.0)
    at, wh, _ = feed(calc, at, 60, 5, step_wh=66, energy_wh=wh, power_w=3960.0)
    _, _, result = feed(calc, at, 60, 1, step_wh=170, energy_wh=wh, power_w=10_200.0)
    assert [p.max_power_kw for p in calc.periods()] == [
        Decimal(6),
        Decimal(48),
        Decimal("10.2"),
    ]
    assert [p.min_power_kw for p in calc.periods()][-1] == Decimal("3.96")
    # 1 x 0.20 + 40 x 0.50 + 0.5 x 0.20 = 20.30, as in the spec's example
    assert result.total_cost == eur("20.30", "24.36")


def test_spring_forward_cuts_at_the_jump() -> None:
    # Europe/Berlin 2025-03-30: 02:00 CET becomes 03:00 CEST at 01:00 UTC. An element from
    # 02:30 becomes active at the jump itself, because 02:30 never happens on the wall clock.
    tariff = tariff_from(
        """{"id": "t", "currency": "EUR", "elements": [
        {"price_components": [{"type": "ENERGY", "price": 1.00, "step_size": 1}],
         "restrictions": {"start_time": "02:30", "end_time": "06:00"}},
        {"price_components": [{"type": "ENERGY", "price": 0.50, "step_size": 1}]}]}"""
    )
    start = datetime(2025, 3, 30, 0, 0, tzinfo=UTC)  # 01:00 local
    calc = LiveCostCalculator(tariff, BERLIN, start, 0)
    feed(calc, start, 600, 12, step_wh=1000, energy_wh=0)  # until 02:00 UTC
    utc_starts = [p.start.astimezone(UTC).strftime("%H:%M") for p in calc.periods()]
    assert utc_starts == ["00:00", "01:00"]
    assert [p.energy_kwh for p in calc.periods()] == [Decimal(6), Decimal(6)]


def test_fall_back_prices_both_passes_through_the_repeated_hour() -> None:
    # 2025-10-26: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:30-02:45 local happens at
    # 00:30 UTC and again at 01:30 UTC.
    tariff = tariff_from(
        """{"id": "t", "currency": "EUR", "elements": [
        {"price_components": [{"type": "ENERGY", "price": 1.00, "step_size": 1}],
         "restrictions": {"start_time": "02:30", "end_time": "02:45"}},
        {"price_components": [{"type": "ENERGY", "price": 0.50, "step_size": 1}]}]}"""
    )
    start = datetime(2025, 10, 26, 0, 0, tzinfo=UTC)
    calc = LiveCostCalculator(tariff, BERLIN, start, 0)
    _, _, result = feed(calc, start, 300, 24, step_wh=500, energy_wh=0)  # 2 h, 6 kWh per hour
    utc_starts = [p.start.astimezone(UTC).strftime("%H:%M") for p in calc.periods()]
    assert utc_starts == ["00:00", "00:30", "00:45", "01:30", "01:45"]
    # 1.5 kWh at 1.00 twice, 9 kWh at 0.50
    assert result.total_cost == eur("7.50", "7.50")


def test_one_reading_after_two_days_is_cut_at_every_boundary() -> None:
    tariff = fixture("research_peak")
    start = datetime(2025, 3, 3, 12, 0, tzinfo=BERLIN)
    calc = LiveCostCalculator(tariff, BERLIN, start, 0)
    result = calc.add_reading(start + timedelta(days=2), 48_000, power_w=1000.0)
    assert starts(calc, BERLIN) == ["12:00:00", "17:00:00", "21:00:00", "17:00:00", "21:00:00"]
    # 1 kWh per hour: 8 h of 48 at the evening price
    assert result.total_energy_cost == eur("24.32", "28.94")  # 40 x 0.49 + 8 x 0.59
    assert price_session(tariff, calc.periods(), start + timedelta(days=2), BERLIN) == result


def test_duration_threshold_cuts_parking() -> None:
    tariff = tariff_from(
        """{"id": "t", "currency": "EUR", "elements": [
        {"price_components": [{"type": "PARKING_TIME", "price": 9.00, "vat": 19,
                               "step_size": 60}],
         "restrictions": {"min_duration": 7200}}]}"""
    )
    start = datetime(2025, 1, 6, 10, tzinfo=UTC)
    calc = LiveCostCalculator(tariff, ZoneInfo("UTC"), start, 0)
    at, wh, _ = feed(calc, start, 900, 6, step_wh=3000, energy_wh=0)  # 90 min charging
    _, _, result = feed(calc, at, 420, 9, step_wh=0, energy_wh=wh, charging=False)  # 63 min parked
    assert [(p.start - start).seconds for p in calc.periods()] == [0, 5400, 7200]
    # 33 min after the 2 h mark at 9.00/h = 4.95
    assert result.total_parking_cost == eur("4.95", "5.89")


def test_repeated_timestamp_adds_energy_without_time() -> None:
    tariff = fixture("spec_energy_start_fee")
    start = datetime(2025, 1, 6, 10, tzinfo=UTC)
    calc = LiveCostCalculator(tariff, ZoneInfo("UTC"), start, 500)
    calc.add_reading(start, 500)
    calc.add_reading(start, 1500)
    result = calc.add_reading(start + timedelta(minutes=1), 2500)
    assert result.total_energy == Decimal(2)
    assert price_session(tariff, calc.periods(), start + timedelta(minutes=1), calc.tz) == result


def test_live_cost_never_decreases_and_reaches_the_hold_check() -> None:
    tariff = fixture("research_peak")
    start = datetime(2025, 3, 4, 16, 0, tzinfo=BERLIN)
    calc = LiveCostCalculator(tariff, BERLIN, start, 0)
    previous = 0
    at = start
    for i in range(1, 181):
        at += timedelta(seconds=30)
        minor = calc.add_reading(at, i * 92, power_w=11_000.0).total_minor()
        assert minor >= previous
        previous = minor
    assert previous == calc.last.total_minor()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"at": datetime(2025, 1, 6, 9, 59, tzinfo=UTC), "energy_wh": 10}, ValueError, "older"),
        ({"at": datetime(2025, 1, 6, 10, 1, tzinfo=UTC), "energy_wh": 99}, ValueError, "back"),
        ({"at": datetime(2025, 1, 6, 10, 1), "energy_wh": 200}, ValueError, "time zone"),  # noqa: DTZ001
        (
            {"at": datetime(2025, 1, 6, 10, 1, tzinfo=UTC), "energy_wh": 200.5},
            TypeError,
            "int",
        ),
        (
            {"at": datetime(2025, 1, 6, 10, 1, tzinfo=UTC), "energy_wh": 200, "power_w": nan},
            ValueError,
            "power_w",
        ),
        (
            {"at": datetime(2025, 1, 6, 10, 1, tzinfo=UTC), "energy_wh": 200, "current_a": inf},
            ValueError,
            "current_a",
        ),
    ],
)
def test_bad_readings_are_refused_and_change_nothing(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    tariff: Tariff = fixture("spec_energy_start_fee")
    start = datetime(2025, 1, 6, 10, tzinfo=UTC)
    calc = LiveCostCalculator(tariff, ZoneInfo("UTC"), start, 100)
    before = calc.add_reading(start, 100)
    periods = calc.periods()
    with pytest.raises(error, match=match):
        calc.add_reading(**kwargs)  # type: ignore[arg-type]
    assert calc.periods() == periods
    assert calc.last == before
    after = calc.add_reading(start + timedelta(minutes=2), 100)
    assert after.total_cost == before.total_cost


def test_a_cheaper_step_can_lower_the_running_cost() -> None:
    # OCPI charges the step_size extra at the last component's price: at 17:00, 5 min at
    # 1.20/h are billed as a 30 min step (0.60); a minute later the 15 min step of the 2.40/h
    # element applies to the 6 min total: 0.10 + 10 min x 2.40/h = 0.50.
    tariff = fixture("spec_step_size")
    start = datetime(2025, 1, 6, 16, 55, tzinfo=UTC)
    calc = LiveCostCalculator(tariff, ZoneInfo("UTC"), start, 0)
    at_five = calc.add_reading(start + timedelta(minutes=5), 0)
    at_six = calc.add_reading(start + timedelta(minutes=6), 0)
    assert at_five.total_cost == eur("0.60", "0.60")
    assert at_six.total_cost == eur("0.50", "0.50")


def test_min_kwh_element_starts_exactly_at_its_threshold() -> None:
    # from 20 kWh on the price drops to 0.40 (min_kwh is inclusive); 0.50 before
    tariff = tariff_from(
        """{"id": "t", "currency": "EUR", "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.40, "vat": 19, "step_size": 1}],
         "restrictions": {"min_kwh": 20}},
        {"price_components": [{"type": "ENERGY", "price": 0.50, "vat": 19, "step_size": 1}]}]}"""
    )
    start = datetime(2025, 1, 6, 10, tzinfo=UTC)
    calc = LiveCostCalculator(tariff, ZoneInfo("UTC"), start, 7_000)
    # 3 kWh readings every 10 minutes: 21 kWh after 70 minutes
    _, _, result = feed(calc, start, 600, 7, step_wh=3000, energy_wh=7_000, power_w=18_000.0)
    assert [p.energy_kwh for p in calc.periods()] == [Decimal(20), Decimal(1)]
    # 20 kWh reached 2/3 into the 60-70 min reading
    assert calc.periods()[1].start - start == timedelta(minutes=66, seconds=40)
    assert result.total_energy_cost == eur("10.40", "12.38")  # 10.00 + 0.40; 11.90 + 0.476
