"""Parsing OCPI 2.2.1 and 2.3.0 tariffs and CDRs into the model; errors name the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from tariff_data.helpers import DATA, fixture

from kiosk.tariff import (
    CdrError,
    DayOfWeek,
    Dimension,
    PriceLimit,
    TariffError,
    TaxIncluded,
    hold_amount,
    load_tariff,
    parse_cdr,
    parse_tariff,
)


def minimal(**extra: Any) -> dict[str, Any]:
    return {
        "id": "t1",
        "currency": "EUR",
        "elements": [
            {
                "price_components": [
                    {"type": "ENERGY", "price": Decimal("0.5"), "vat": 19, "step_size": 1}
                ]
            }
        ],
        **extra,
    }


def test_a_221_tariff_reads_as_prices_excluding_vat() -> None:
    tariff = fixture("spec_complex")
    assert tariff.ocpi_version == "2.2.1"
    assert tariff.tax_included is TaxIncluded.NO
    assert len(tariff.elements) == 6
    parking = tariff.elements[4]
    assert parking.restrictions.start_time == time(9, 0)
    assert parking.restrictions.day_of_week == frozenset(
        {
            DayOfWeek.MONDAY,
            DayOfWeek.TUESDAY,
            DayOfWeek.WEDNESDAY,
            DayOfWeek.THURSDAY,
            DayOfWeek.FRIDAY,
        }
    )
    component = parking.component(Dimension.PARKING_TIME)
    assert component is not None
    assert (component.price, component.vat, component.step_size) == (
        Decimal("5.00"),
        Decimal("10.0"),
        300,
    )
    assert tariff.raw["id"] == "spec-4"  # the snapshot keeps the JSON it came from


def test_230_fields() -> None:
    tariff = parse_tariff(
        minimal(
            tax_included="YES",
            preauthorize_amount=Decimal("45.5"),
            min_price={"before_taxes": Decimal("1.00"), "after_taxes": Decimal("1.19")},
            max_price={"before_taxes": 60},
        )
    )
    assert tariff.ocpi_version == "2.3.0"
    assert tariff.tax_included is TaxIncluded.YES
    assert tariff.min_price == PriceLimit(Decimal("1.00"), Decimal("1.19"))
    assert tariff.max_price == PriceLimit(Decimal(60), None)
    assert hold_amount(tariff, configured_minor=3000) == 4550
    assert hold_amount(parse_tariff(minimal()), configured_minor=3000) == 3000


def test_response_envelope_is_unwrapped() -> None:
    tariff = parse_tariff({"data": minimal(), "status_code": 1000})
    assert tariff.id == "t1"


def test_reservation_elements_may_only_price_flat_and_time() -> None:
    obj = minimal()
    obj["elements"].append(
        {
            "price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}],
            "restrictions": {"reservation": "RESERVATION"},
        }
    )
    with pytest.raises(TariffError) as info:
        parse_tariff(obj)
    assert info.value.field == "elements[1].price_components[0].type"
    assert "reservation" in info.value.reason


def test_floats_are_refused_with_the_field_named() -> None:
    obj = minimal()
    obj["elements"][0]["price_components"][0]["price"] = 0.5
    with pytest.raises(TariffError, match=r"elements\[0\]\.price_components\[0\]\.price: float"):
        parse_tariff(obj)


def test_error_carries_field_and_reason() -> None:
    with pytest.raises(TariffError) as info:
        parse_tariff(minimal(currency="eur"))
    assert info.value.field == "currency"
    assert str(info.value) == "tariff: currency: 'eur' is not an ISO 4217 currency code"


def test_wrapping_end_time_and_all_restrictions_parse() -> None:
    obj = minimal()
    obj["elements"][0]["restrictions"] = {
        "start_time": "22:00",
        "end_time": "06:00",
        "start_date": "2025-01-01",
        "end_date": "2026-01-01",
        "min_kwh": 0,
        "max_kwh": Decimal("50.5"),
        "min_current": 6,
        "max_current": 32,
        "min_power": Decimal("3.7"),
        "max_power": 22,
        "min_duration": 0,
        "max_duration": 3600,
        "day_of_week": ["SATURDAY", "SUNDAY"],
    }
    r = parse_tariff(obj).elements[0].restrictions
    assert (r.start_time, r.end_time) == (time(22), time(6))
    assert (r.max_kwh, r.max_duration, r.min_power) == (Decimal("50.5"), 3600, Decimal("3.7"))


def test_load_tariff_reads_numbers_as_decimal(tmp_path: Any) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(minimal(), default=str).replace('"0.5"', "0.1"))
    component = load_tariff(path).elements[0].price_components[0]
    assert component.price == Decimal("0.1")  # not 0.1000000000000000055...


def test_cdr_periods_take_time_from_the_next_start_when_no_time_is_listed() -> None:
    cdr = parse_cdr(
        {
            "start_date_time": "2025-01-06T10:00:00Z",
            "end_date_time": "2025-01-06T11:30:00",  # no designator: UTC per OCPI
            "charging_periods": [
                {
                    "start_date_time": "2025-01-06T10:00:00Z",
                    "dimensions": [{"type": "ENERGY", "volume": 5}],
                },
                {
                    "start_date_time": "2025-01-06T11:00:00Z",
                    "dimensions": [
                        {"type": "ENERGY", "volume": Decimal("1.5")},
                        {"type": "MAX_POWER", "volume": 11},
                        {"type": "MIN_CURRENT", "volume": 6},
                    ],
                },
            ],
        }
    )
    first, second = cdr.charging_periods
    assert first.time_h == Decimal(1)
    assert second.time_h == Decimal("0.5")
    assert (second.max_power_kw, second.min_current_a) == (Decimal(11), Decimal(6))
    assert cdr.end_date_time == datetime(2025, 1, 6, 11, 30, tzinfo=UTC)


def test_cdr_duplicate_dimension_is_an_error() -> None:
    with pytest.raises(CdrError) as info:
        parse_cdr(
            {
                "start_date_time": "2025-01-06T10:00:00Z",
                "end_date_time": "2025-01-06T11:00:00Z",
                "charging_periods": [
                    {
                        "start_date_time": "2025-01-06T10:00:00Z",
                        "dimensions": [
                            {"type": "ENERGY", "volume": 1},
                            {"type": "ENERGY", "volume": 2},
                        ],
                    }
                ],
            }
        )
    assert info.value.field == "charging_periods[0].dimensions[1].type"
    assert str(info.value).startswith("cdr: ")


def test_every_fixture_parses() -> None:
    for path in sorted(DATA.glob("spec_*.json")) + sorted(DATA.glob("research_peak.json")):
        assert load_tariff(path).currency == "EUR"


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:01+00:01", "9999-12-31T23:59:59-01:00"])
def test_date_times_beyond_the_calendar_in_utc_are_named_errors(stamp: str) -> None:
    with pytest.raises(TariffError, match="start_date_time") as tariff_error:
        parse_tariff(minimal(start_date_time=stamp))
    assert "outside the range" in str(tariff_error.value)
    cdr = {"start_date_time": stamp, "end_date_time": "2026-01-01T00:00:00Z"}
    with pytest.raises(CdrError, match="start_date_time"):
        parse_cdr({**cdr, "charging_periods": []})
