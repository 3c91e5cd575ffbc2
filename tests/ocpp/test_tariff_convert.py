"""An OCPP 2.1 tariff as our OCPI tariff: per minute becomes per hour, Wh and W become kWh and
kW, no step_size, one tax rate, min/max cost; the engine prices it as OCPP says; what cannot be
converted exactly is refused with the OCPP status and the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kiosk.tariff import ChargingPeriod, Dimension, price_session
from kiosk.tariff.ocpp21 import TariffRefused, from_ocpp

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
VAT = [{"type": "VAT", "tax": 19}]


def ocpp(**parts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "tariffId": "csms-1",
        "currency": "EUR",
        "energy": {"prices": [{"priceKwh": Decimal("0.42")}], "taxRates": VAT},
    }
    base.update(parts)
    # as the link reads it: every number exact
    return json.loads(json.dumps(base, default=str).replace('"0.42"', "0.42"), parse_float=Decimal)


def exact(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def test_units_taxes_and_limits_convert_exactly() -> None:
    tariff = exact(
        """{"tariffId": "csms-1", "currency": "EUR",
        "description": [{"format": "UTF8", "language": "de", "content": "Netz-Tarif"},
                        {"format": "URI", "content": "https://example.org/t"}],
        "fixedFee": {"prices": [{"priceFixed": 0.50}], "taxRates": [{"type": "VAT", "tax": 19}]},
        "energy": {"prices": [
            {"priceKwh": 0.30, "conditions": {"startTimeOfDay": "22:00", "endTimeOfDay": "06:00",
                                              "dayOfWeek": ["Saturday", "Sunday"]}},
            {"priceKwh": 0.42, "conditions": {"minEnergy": 20000, "maxPower": 11000}},
            {"priceKwh": 0.45}],
            "taxRates": [{"type": "VAT", "tax": 19}]},
        "chargingTime": {"prices": [{"priceMinute": 0.0125, "conditions": {"minTime": 3600}}],
                         "taxRates": [{"type": "VAT", "tax": 19, "stack": 0}]},
        "idleTime": {"prices": [{"priceMinute": 0.10}], "taxRates": [{"type": "VAT", "tax": 7}]},
        "reservationFixed": {"prices": [{"priceFixed": 1}]},
        "minCost": {"exclTax": 1.00, "inclTax": 1.19},
        "maxCost": {"exclTax": 50}}"""
    )
    converted = from_ocpp(tariff, currency="EUR", now=NOW)
    ocpi = converted.ocpi
    assert ocpi["tax_included"] == "NO" and ocpi["id"] == "csms-1"
    components = [e["price_components"][0] for e in ocpi["elements"]]
    assert [(c["type"], c["price"], c["vat"]) for c in components] == [
        ("FLAT", Decimal("0.50"), 19),
        ("ENERGY", Decimal("0.30"), 19),
        ("ENERGY", Decimal("0.42"), 19),
        ("ENERGY", Decimal("0.45"), 19),
        ("TIME", Decimal("0.7500"), 19),  # 0.0125 per minute = 0.75 per hour, exactly
        ("PARKING_TIME", Decimal("6.00"), 7),
    ]
    assert all(c.get("step_size", 0) == 0 for c in components)
    assert ocpi["elements"][1]["restrictions"] == {
        "start_time": "22:00",
        "end_time": "06:00",
        "day_of_week": ["SATURDAY", "SUNDAY"],
    }
    assert ocpi["elements"][2]["restrictions"] == {
        "min_kwh": Decimal("20"),
        "max_power": Decimal("11"),
    }
    assert ocpi["elements"][4]["restrictions"] == {"min_duration": 3600}
    assert ocpi["min_price"] == {"before_taxes": Decimal("1.00"), "after_taxes": Decimal("1.19")}
    assert ocpi["max_price"] == {"before_taxes": 50}
    assert converted.tariff.alt_text == (("de", "Netz-Tarif"),)
    steps = {
        c.step_size
        for e in converted.tariff.elements
        for c in e.price_components
        if c.type is not Dimension.FLAT
    }
    assert steps == {0}


def test_the_engine_prices_it_per_minute_and_per_kwh_without_steps() -> None:
    tariff = exact(
        """{"tariffId": "t", "currency": "EUR",
        "energy": {"prices": [{"priceKwh": 0.40}], "taxRates": [{"type": "VAT", "tax": 19}]},
        "chargingTime": {"prices": [{"priceMinute": 0.05}],
                         "taxRates": [{"type": "VAT", "tax": 19}]}}"""
    )
    converted = from_ocpp(tariff, currency="EUR", now=NOW)
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    # 10.0005 kWh in 61 s: OCPI with a 1 Wh / 60 s step would bill 10.001 kWh and 120 s.
    period = ChargingPeriod(start, energy_kwh=Decimal("10.0005"), time_h=Decimal(61) / 3600)
    cost = price_session(
        converted.tariff, [period], start + timedelta(seconds=61), ZoneInfo("Europe/Berlin")
    )
    # energy 10.0005 x 0.40 = 4.0002 net; time 61 min/60 x 0.05 = 0.050833.. net
    assert cost.total_energy_cost is not None and cost.total_time_cost is not None
    assert cost.total_energy_cost.excl_vat.amount == Decimal("4.00")
    assert cost.total_energy_cost.incl_vat.amount == Decimal("4.76")  # 4.760238
    assert cost.total_time_cost.excl_vat.amount == Decimal("0.05")
    assert cost.total_time_cost.incl_vat.amount == Decimal("0.06")  # 0.0604916..
    assert cost.billed["energy_kwh"] == Decimal("10.0005")
    assert converted.tariff.elements[1].price_components[0].type is Dimension.TIME


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"currency": "CHF"}, "Rejected", "tariff.currency"),
        (
            {"energy": {"prices": [{"priceKwh": 1}]}},
            "Rejected",
            "tariff.energy.taxRates",
        ),
        (
            {"energy": {"prices": [{"priceKwh": 1}], "taxRates": VAT + VAT}},
            "Rejected",
            "tariff.energy.taxRates",
        ),
        (
            {"energy": {"prices": [{"priceKwh": 1}], "taxRates": [VAT[0] | {"stack": 1}]}},
            "Rejected",
            "tariff.energy.taxRates",
        ),
        (
            {"energy": {"prices": [{"priceKwh": "0.123456"}], "taxRates": VAT}},
            "Rejected",
            "tariff.energy.prices[0]",
        ),
        (
            {"energy": {"prices": [{"priceKwh": -1}], "taxRates": VAT}},
            "Rejected",
            "tariff.energy.prices[0]",
        ),
        (
            {
                "energy": {
                    "prices": [{"priceKwh": 1, "conditions": {"minIdleTime": 60}}],
                    "taxRates": VAT,
                }
            },
            "ConditionNotSupported",
            "tariff.energy.prices[0].conditions.minIdleTime",
        ),
        (
            {
                "energy": {
                    "prices": [{"priceKwh": 1, "conditions": {"evseKind": "DC"}}],
                    "taxRates": VAT,
                }
            },
            "ConditionNotSupported",
            "tariff.energy.prices[0].conditions.evseKind",
        ),
        ({"maxCost": {"inclTax": 20}}, "Rejected", "tariff.maxCost.exclTax"),
        ({"validFrom": "2027-01-01T00:00:00Z"}, "Rejected", "tariff.validFrom"),
        ({"energy": None}, "Rejected", "tariff"),
    ],
)
def test_what_cannot_be_converted_exactly_is_refused(
    change: dict[str, Any], status: str, field: str
) -> None:
    tariff = ocpp()
    for key, value in change.items():
        if value is None:
            tariff.pop(key)
        else:
            tariff[key] = exact(json.dumps(value).replace('"0.123456"', "0.123456"))
    with pytest.raises(TariffRefused) as refused:
        from_ocpp(tariff, currency="EUR", now=NOW)
    assert refused.value.status == status
    assert refused.value.field.startswith(field), refused.value
    info = refused.value.status_info()
    assert len(info["reasonCode"]) <= 20 and field in info["additionalInfo"]


def test_a_tariff_valid_since_a_past_instant_is_in_force() -> None:
    tariff = ocpp(validFrom="2026-12-01T00:00:00Z")
    assert from_ocpp(tariff, currency="EUR", now=NOW).tariff_id == "csms-1"
