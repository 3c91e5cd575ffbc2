"""What a connector offers on screen: price lines worded once, in a language the engine knows."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.runtime.offers import offer_for
from kiosk.tariff import load_tariff

SAMPLE = Path(__file__).parents[2] / "assets" / "samples" / "tariff.json"


@pytest.mark.parametrize("lang", ["en", "de"])
def test_each_price_line_states_its_conditions_once(lang: str) -> None:
    offer = offer_for(load_tariff(SAMPLE), 5000, lang)
    peak = [line for line in offer.price_lines if "17:00–21:00" in line.text]
    assert peak, [line.text for line in offer.price_lines]
    for line in offer.price_lines:
        assert line.text.count("17:00–21:00") <= 1, line.text


def test_a_station_speaking_a_language_the_engine_does_not_word_still_gets_an_offer() -> None:
    offer = offer_for(load_tariff(SAMPLE), 5000, "fr")
    english = offer_for(load_tariff(SAMPLE), 5000, "en")
    assert [line.text for line in offer.price_lines] == [line.text for line in english.price_lines]
    assert offer.hold_minor == 5000
