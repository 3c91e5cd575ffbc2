"""The price in force at an instant, in the station's time zone, and its next change."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tariff_data.helpers import fixture

from kiosk.tariff import load_tariff, price_lines, price_now
from kiosk.tariff.wording import load_words, next_text, now_text

SAMPLE = Path(__file__).parents[2] / "assets" / "samples" / "tariff.json"
BERLIN = ZoneInfo("Europe/Berlin")


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)  # 2026-12-07 is a Monday


def energy(lines: tuple[object, ...]) -> list[Decimal]:
    return [line.price_incl_vat for line in lines if line.dimension == "energy"]  # type: ignore[attr-defined]


def test_monday_after_midnight_the_off_peak_price_is_in_force_and_the_peak_is_announced() -> None:
    tariff = load_tariff(SAMPLE)
    now = price_now(tariff, price_lines(tariff), BERLIN, berlin(7, 0, 20))
    assert energy(now.lines) == [Decimal("0.59")]
    assert [line.dimension for line in now.lines] == ["energy", "flat", "parking_time"]
    assert now.next_at == berlin(7, 17)
    assert energy(now.next_lines) == [Decimal("0.69")]
    assert now.valid_until == berlin(7, 17)
    de, en = load_words("de"), load_words("en")
    assert now_text(now, de).startswith("0,59 €/kWh + 0,49 € je Ladevorgang")
    assert next_text(now, de, BERLIN) == "ab 17:00 Uhr: 0,69 €/kWh"
    assert next_text(now, en, BERLIN) == "from 17:00: €0.69/kWh"


def test_monday_evening_the_peak_is_in_force_until_21() -> None:
    tariff = load_tariff(SAMPLE)
    now = price_now(tariff, price_lines(tariff), BERLIN, berlin(7, 18))
    assert energy(now.lines) == [Decimal("0.69")]
    assert now.next_at == berlin(7, 21)
    assert energy(now.next_lines) == [Decimal("0.59")]
    assert now_text(now, load_words("fr")).startswith("0,69\u00a0€/kWh + 0,49\u00a0€ par session")


def test_friday_night_announces_nothing_beyond_the_horizon_and_looks_again_at_midnight() -> None:
    tariff = load_tariff(SAMPLE)
    now = price_now(tariff, price_lines(tariff), BERLIN, berlin(11, 22))
    assert energy(now.lines) == [Decimal("0.59")]
    assert now.next_at is None  # Monday 17:00 is more than a day away
    assert now.valid_until == berlin(12, 0)
    assert next_text(now, load_words("en"), BERLIN) == ""


def test_sunday_evening_announces_monday_with_its_weekday() -> None:
    tariff = load_tariff(SAMPLE)
    now = price_now(tariff, price_lines(tariff), BERLIN, berlin(13, 18))
    assert now.next_at == berlin(14, 17)
    assert next_text(now, load_words("en"), BERLIN) == "from Mon 17:00: €0.69/kWh"


def test_the_time_zone_decides_not_utc() -> None:
    tariff = load_tariff(SAMPLE)
    at = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)  # 17:30 in Berlin: peak
    assert energy(price_now(tariff, price_lines(tariff), BERLIN, at).lines) == [Decimal("0.69")]
    assert energy(price_now(tariff, price_lines(tariff), ZoneInfo("UTC"), at).lines) == [
        Decimal("0.59")
    ]


def test_session_dependent_lines_are_in_force_only_conditionally() -> None:
    tariff = fixture("spec_complex")  # TIME by power (< 32 kW, >= 32 kW on weekdays/weekends)
    lines = price_lines(tariff)
    now = price_now(tariff, lines, BERLIN, berlin(8, 10))  # a Tuesday
    times = [line for line in now.lines if line.dimension == "time"]
    assert len(times) == 2 and all(line.when.conditional for line in times)
    assert {line.price_incl_vat for line in times} == {
        line.price_incl_vat
        for line in lines
        if line.dimension == "time" and (not line.when.days or 1 in line.when.days)
    }


def test_a_naive_instant_is_refused() -> None:
    tariff = load_tariff(SAMPLE)
    with pytest.raises(ValueError, match="no time zone"):
        price_now(tariff, price_lines(tariff), BERLIN, datetime.fromisoformat("2026-12-07T00:20"))
