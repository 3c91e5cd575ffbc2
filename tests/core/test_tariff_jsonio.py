"""Exact JSON output: Decimal digits survive, floats are refused, other currencies round right."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tariff_data.helpers import charge, session, tariff_from

from kiosk.money import Money
from kiosk.tariff import Price, price_session
from kiosk.tariff.jsonio import dumps


def test_decimals_are_written_digit_for_digit() -> None:
    value = {"a": Decimal("0.10"), "b": [Decimal("1E+2"), 3, None, True, "ü"], "c": {}}
    text = dumps(value, indent=None)
    assert text == '{"a": 0.10, "b": [100, 3, null, true, "ü"], "c": {}}'
    assert json.loads(text, parse_float=Decimal)["a"] == Decimal("0.10")
    assert json.loads(dumps(value)) == json.loads(text)  # indented form is the same JSON


@pytest.mark.parametrize("bad", [0.1, Decimal("NaN"), object()])
def test_floats_and_non_numbers_are_refused(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        dumps({"x": bad})


def test_yen_tariff_rounds_to_whole_yen() -> None:
    # 10.5 kWh x 33 JPY = 346.5 -> 347 (half up); incl. 10 %: 381.15 -> 381
    tariff = tariff_from(
        '{"id": "jp", "currency": "JPY", "elements": [{"price_components": '
        '[{"type": "ENERGY", "price": 33, "vat": 10, "step_size": 1}]}]}'
    )
    start = datetime(2025, 1, 6, 1, tzinfo=UTC)
    periods, end = session(start, charge(60, "10.5"))
    cost = price_session(tariff, periods, end, UTC)
    assert cost.total_cost == Price(Money(Decimal(347), "JPY"), Money(Decimal(381), "JPY"))
    assert cost.total_minor() == 381
    assert '"incl_vat": 381' in dumps(cost.to_ocpi())
