"""The tariff text a signing meter signs (`TT`) is the price screen's wording of the session's
offer, within OCMF's 250 characters and without `|`."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from kiosk.ocmf.tariff_text import MAX_TARIFF_TEXT, tariff_text
from kiosk.runtime.offers import offer_for
from kiosk.tariff import parse_tariff, wording


def offer(elements: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    raw = {
        "country_code": "DE",
        "party_id": "EVK",
        "id": "T",
        "currency": "EUR",
        "type": "AD_HOC_PAYMENT",
        "tax_included": "YES",
        "elements": elements,
        "last_updated": "2026-01-01T00:00:00Z",
    }
    return offer_for(parse_tariff(raw), 5000)


ENERGY = {
    "price_components": [{"type": "ENERGY", "price": Decimal("0.59"), "vat": 19, "step_size": 1}]
}
FLAT = {"price_components": [{"type": "FLAT", "price": Decimal("0.49"), "vat": 19, "step_size": 1}]}


def test_the_text_is_the_price_screens_lines_in_the_station_language() -> None:
    o = offer([FLAT, ENERGY])
    words = wording.load_words("de")
    text = tariff_text(o, "de")
    lines = [wording.line_text(line, words) for line in o.price_lines]
    assert set(text.split("; ")) == set(lines)
    energy = next(line for line in o.price_lines if line.dimension == "energy")
    assert text.startswith(wording.line_text(energy, words))  # AFIR order, as on the screen
    assert "0,59" in text and "|" not in text


def test_too_long_a_text_falls_back_to_the_compact_form_then_is_cut() -> None:
    o = offer([ENERGY])
    many = replace(o, price_lines=o.price_lines * 20)
    text = tariff_text(many, "en")
    assert len(text) <= MAX_TARIFF_TEXT
    assert text.startswith(wording.short_text(o.price_lines[0], wording.load_words("en")))
