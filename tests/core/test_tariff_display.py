"""Price lines as the driver sees them before starting: order, gross prices, words in
every language the station ships."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tariff_data.helpers import fixture, tariff_from

from kiosk.money import Money
from kiosk.tariff import price_lines
from kiosk.tariff.display import format_amount
from kiosk.tariff.wording import conditions, line_text, load_words


def test_energy_comes_first_then_time_parking_flat_and_limits() -> None:
    tariff = tariff_from(
        """{"id": "t", "currency": "EUR", "min_price": {"excl_vat": 2, "incl_vat": 2.38},
        "max_price": {"excl_vat": 50},
        "elements": [
        {"price_components": [{"type": "FLAT", "price": 1, "vat": 19, "step_size": 1},
                              {"type": "PARKING_TIME", "price": 6, "vat": 19, "step_size": 300},
                              {"type": "TIME", "price": 1.2, "vat": 19, "step_size": 60},
                              {"type": "ENERGY", "price": 0.49, "vat": 19, "step_size": 1}]}]}"""
    )
    lines = price_lines(tariff)
    assert [line.dimension for line in lines] == [
        "energy",
        "time",
        "flat",
        "parking_time",
        "min_price",
        "max_price",
    ]
    energy = lines[0]
    # 0.49 net + 19 % = 0.5831: shown with the decimals it needs, so shown == billed
    assert energy.price_incl_vat == Decimal("0.5831")
    en = load_words("en")
    assert line_text(energy, en, with_vat=True) == "€0.5831 per kWh (incl. 19 % VAT)"
    assert (
        line_text(lines[3], en)
        == "€7.14 per hour parked (only while your vehicle is connected and not charging; "
        "billed per started 5 minutes)"
    )
    assert lines[3].step_size == 300
    assert line_text(lines[4], en) == "Minimum price per session: €2.38"
    assert line_text(lines[5], en) == "Maximum price per session: €59.50"  # 50 + 19 %


def test_restrictions_are_data_worded_per_language_and_fallback_reads_otherwise() -> None:
    lines = price_lines(fixture("spec_complex"))
    assert lines[0].when.max_power_kw == Decimal(32) and lines[0].when.conditional
    assert lines[1].when.days == (0, 1, 2, 3, 4)
    de = load_words("de")
    texts = [line_text(line, de, with_vat=True) for line in lines]
    assert (
        texts[0]
        == "1,20 € pro Stunde Ladezeit (unter 32 kW; je angefangene 15 Minuten; inkl. 20 % MwSt.)"
    )
    assert texts[1].startswith("2,40 € pro Stunde Ladezeit (Mo–Fr, ab 32 kW;")
    assert texts[2].startswith("1,50 € pro Stunde Ladezeit (Sa, So, ab 32 kW")
    flat = next(t for t in texts if "Ladevorgang" in t)
    assert flat == "2,875 € pro Ladevorgang (inkl. 15 % MwSt.)"
    parking = next(t for t in texts if "Standzeit" in t)
    assert parking.startswith("5,50 € pro Stunde Standzeit (Mo–Fr, 09:00–18:00; nur angesteckt")
    research = price_lines(fixture("research_peak"))
    en = load_words("en")
    assert conditions(research[0].when, en) == "17:00–21:00"
    assert conditions(research[1].when, en) == "at all other times"
    fr = load_words("fr")
    assert conditions(research[1].when, fr) == "à tout autre moment"


def test_missing_vat_says_so_and_unknown_language_is_refused() -> None:
    lines = price_lines(fixture("spec_step_size"))
    en = load_words("en")
    assert (
        line_text(lines[0], en, with_vat=True)
        == "€1.20 per hour of charging (00:00–17:00; billed per started 30 minutes; no VAT)"
    )
    assert conditions(lines[2].when, en) == "20:00–23:59"
    with pytest.raises(ValueError, match="language 'xx': expected one of de, en, fr"):
        load_words("xx")


@pytest.mark.parametrize(
    ("amount", "currency", "lang", "text"),
    [
        ("1234.5", "EUR", "de", "1.234,50 €"),
        ("1234.5", "EUR", "en", "1,234.50 EUR"),
        ("0.58310", "EUR", "en", "0.5831 EUR"),
        ("0.123456", "EUR", "en", "0.1235 EUR"),
        ("500", "JPY", "en", "500 JPY"),
    ],
)
def test_format_amount(amount: str, currency: str, lang: str, text: str) -> None:
    assert format_amount(Money(Decimal(amount), currency), lang) == text
