"""Pricing speed: a 10,000-period session priced at once, and 100,000 live meter readings.

    .venv/bin/python bench/bench_tariff.py [--periods N] [--readings N]

Prints figures only; nothing here is asserted. The tariff is the sample German AC tariff
(evening peak, session fee, parking), so the live run crosses restriction boundaries daily.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.tariff import ChargingPeriod, LiveCostCalculator, load_tariff, price_session

TARIFF = Path(__file__).parents[1] / "assets" / "samples" / "tariff.json"
TZ = ZoneInfo("Europe/Berlin")
START = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)


def bench_periods(count: int) -> None:
    tariff = load_tariff(TARIFF)
    periods = [
        ChargingPeriod(
            start=START + timedelta(minutes=5 * i),
            energy_kwh=Decimal("0.917"),
            time_h=Decimal(5) / 60 if i % 10 else Decimal(0),
            parking_h=Decimal(0) if i % 10 else Decimal(5) / 60,
            max_power_kw=Decimal(11),
        )
        for i in range(count)
    ]
    end = START + timedelta(minutes=5 * count)
    began = time.perf_counter()
    cost = price_session(tariff, periods, end, TZ)
    elapsed = time.perf_counter() - began
    print(
        f"price_session: {count} periods in {elapsed * 1000:.1f} ms "
        f"({count / elapsed:,.0f} periods/s), total {cost.total_cost.incl_vat}"
    )


def bench_live(count: int) -> None:
    tariff = load_tariff(TARIFF)
    calc = LiveCostCalculator(tariff, TZ, START, start_energy_wh=12_000_000)
    at, wh = START, 12_000_000
    began = time.perf_counter()
    result = None
    for i in range(count):
        at += timedelta(seconds=5)
        charging = (i // 720) % 6 != 5  # an hour in six parked
        wh += 15 if charging else 0
        result = calc.add_reading(at, wh, power_w=11_000.0 if charging else 0.0, charging=charging)
    elapsed = time.perf_counter() - began
    assert result is not None
    print(
        f"LiveCostCalculator: {count} readings in {elapsed:.2f} s "
        f"({count / elapsed:,.0f} readings/s, {elapsed / count * 1e6:.1f} µs/reading), "
        f"{len(calc.periods())} periods, total {result.total_cost.incl_vat}"
    )
    began = time.perf_counter()
    final = price_session(tariff, calc.periods(), at, TZ)
    elapsed = time.perf_counter() - began
    print(
        f"final price_session over the live periods: {elapsed * 1000:.1f} ms, "
        f"equal to live: {final == result}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--periods", type=int, default=10_000)
    parser.add_argument("--readings", type=int, default=100_000)
    args = parser.parse_args()
    bench_periods(args.periods)
    bench_live(args.readings)


if __name__ == "__main__":
    main()
