"""Price lines as the driver sees them before starting: order, gross prices, words."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tariff_data.helpers import fixture, tariff_from

from kiosk.money import Money
from kiosk.tariff import price_lines
from kiosk.tariff.display import format_amount


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
    assert [line.kind for line in lines] == [
        "ENERGY",
        "TIME",
        "PARKING_TIME",
        "FLAT",
        "MIN_PRICE",
        "MAX_PRICE",
    ]
    energy = lines[0]
    # 0.49 net + 19 % = 0.5831: shown with the decimals it needs, so shown == billed
    assert energy.unit_price_incl_vat == Money(Decimal("0.5831"), "EUR")
    assert energy.text == "Energy: 0.5831 EUR/kWh (incl. 19 % VAT)"
    assert lines[2].text == "Parking (not charging): 7.14 EUR/h (billed per 5 min; incl. 19 % VAT)"
    assert lines[4].text == "Minimum price per session: 2.38 EUR"
    assert lines[5].text == "Maximum price per session: 59.50 EUR"  # 50 + 19 %


def test_restrictions_in_words_and_fallback_reads_otherwise() -> None:
    lines = price_lines(fixture("spec_complex"), "de")
    texts = [line.text for line in lines]
    assert texts[0] == "Ladezeit: 1,20 €/h (unter 32 kW; abgerechnet je 15 Min.; inkl. 20 % MwSt.)"
    assert (
        texts[1] == "Ladezeit: 2,40 €/h (Mo–Fr, ab 32 kW; abgerechnet je 10 Min.; inkl. 20 % MwSt.)"
    )
    assert texts[2].startswith("Ladezeit: 1,50 €/h (Sa, So, ab 32 kW")
    assert texts[3].startswith("Standzeit (ohne Laden): 5,50 €/h (Mo–Fr, 09:00–18:00;")
    assert texts[-1] == "Grundgebühr: 2,875 € je Ladevorgang (inkl. 15 % MwSt.)"
    research = price_lines(fixture("research_peak"))
    assert research[0].conditions == "17:00–21:00"
    assert research[1].conditions == "otherwise"


def test_missing_vat_says_so_and_unknown_language_is_refused() -> None:
    lines = price_lines(fixture("spec_step_size"))
    assert lines[0].text == "Charging time: 1.20 EUR/h (00:00–17:00; billed per 30 min; no VAT)"
    assert lines[2].conditions == "20:00–23:59"
    with pytest.raises(ValueError, match="language 'fr'"):
        price_lines(fixture("spec_step_size"), "fr")


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
