"""An OCPP 2.1 Tariff (SetDefaultTariff, ChangeTransactionTariff) as our OCPI tariff, exactly.

OCPP prices each dimension in its own list (``energy.prices``, ``chargingTime.prices``, ...);
the first price whose conditions match is used, as OCPI does per dimension over its elements.
So each OCPP price becomes one OCPI element with one component, in the tariff's order, and the
engine selects the same prices. Units: ``priceKwh`` stays per kWh; ``priceMinute`` x 60 is the
OCPI price per hour (exact in Decimal); Wh and W conditions become kWh and kW (÷ 1000, exact).
OCPP has no step_size: every component gets ``step_size`` 0 (billed to the Wh and the
microsecond). OCPP prices exclude tax; each dimension's one tax rate becomes the component's VAT.

What cannot be converted exactly is refused with the OCPP status and a reason, never
approximated: several or stacked tax rates, a missing tax rate, conditions this station cannot
decide (per-phase idle or charging time, AC/DC, payment brand), a min/max cost without its
amount excluding tax, a tariff valid only from a future instant, another currency, a price
with more decimals than the engine keeps. Reservation prices are accepted and never apply: the
station takes no reservations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from kiosk.tariff.model import Tariff, TariffError
from kiosk.tariff.parse import parse_tariff

_SIXTY = Decimal(60)
_DAYS = {
    "Monday": "MONDAY",
    "Tuesday": "TUESDAY",
    "Wednesday": "WEDNESDAY",
    "Thursday": "THURSDAY",
    "Friday": "FRIDAY",
    "Saturday": "SATURDAY",
    "Sunday": "SUNDAY",
}
# OCPP condition -> (OCPI restriction, divisor): Wh -> kWh, W -> kW, A and s as they are.
_CONDITIONS: dict[str, tuple[str, int]] = {
    "minEnergy": ("min_kwh", 1000),
    "maxEnergy": ("max_kwh", 1000),
    "minCurrent": ("min_current", 1),
    "maxCurrent": ("max_current", 1),
    "minPower": ("min_power", 1000),
    "maxPower": ("max_power", 1000),
    "minTime": ("min_duration", 1),
    "maxTime": ("max_duration", 1),
}
_UNSUPPORTED_CONDITIONS = (
    "minChargingTime",
    "maxChargingTime",
    "minIdleTime",
    "maxIdleTime",
    "evseKind",
    "paymentBrand",
    "paymentRecognition",
)
# OCPP dimension -> OCPI dimension, and whether the OCPP price is per minute.
_DIMENSIONS = (
    ("fixedFee", "FLAT", "priceFixed", False),
    ("energy", "ENERGY", "priceKwh", False),
    ("chargingTime", "TIME", "priceMinute", True),
    ("idleTime", "PARKING_TIME", "priceMinute", True),
)


class TariffRefused(ValueError):
    """An OCPP tariff this station cannot apply exactly. ``status`` is the OCPP status to
    answer, ``reason_code`` the statusInfo code (at most 20 characters), ``field`` the path."""

    def __init__(self, status: str, reason_code: str, field: str, reason: str) -> None:
        self.status = status
        self.reason_code = reason_code
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)

    def status_info(self) -> dict[str, str]:
        return {"reasonCode": self.reason_code, "additionalInfo": str(self)[:1024]}


@dataclass(frozen=True, slots=True)
class ConvertedTariff:
    tariff_id: str
    ocpi: dict[str, Any]  # the OCPI tariff object (Decimal numbers)
    tariff: Tariff  # parsed and validated by the engine's own parser


def _number(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TariffRefused("Rejected", "InvalidValue", field, "expected an exact number")
    return Decimal(value)


def _restrictions(conditions: Mapping[str, Any], field: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _UNSUPPORTED_CONDITIONS:
        if key in conditions:
            raise TariffRefused(
                "ConditionNotSupported",
                "UnsupportedParam",
                f"{field}.{key}",
                "this station cannot decide this condition",
            )
    for ocpp_key, ocpi_key in (
        ("startTimeOfDay", "start_time"),
        ("endTimeOfDay", "end_time"),
        ("validFromDate", "start_date"),
        ("validToDate", "end_date"),
    ):
        if ocpp_key in conditions:
            out[ocpi_key] = conditions[ocpp_key]
    if "dayOfWeek" in conditions:
        out["day_of_week"] = [_DAYS[day] for day in conditions["dayOfWeek"]]
    for ocpp_key, (ocpi_key, divisor) in _CONDITIONS.items():
        if ocpp_key in conditions:
            value = _number(conditions[ocpp_key], f"{field}.{ocpp_key}")
            out[ocpi_key] = value if divisor == 1 else value.scaleb(-3)
    return out


def _tax(dimension: Mapping[str, Any], field: str) -> Decimal:
    rates = dimension.get("taxRates")
    if not rates:
        raise TariffRefused(
            "Rejected",
            "TaxRateMissing",
            f"{field}.taxRates",
            "no tax rate: the amount to charge including tax is unknown (send tax 0 for none)",
        )
    if len(rates) != 1 or int(rates[0].get("stack", 0)) != 0:
        raise TariffRefused(
            "Rejected",
            "UnsupportedParam",
            f"{field}.taxRates",
            "only one tax rate on the net price is supported",
        )
    return _number(rates[0]["tax"], f"{field}.taxRates[0].tax")


def _limit(price: Mapping[str, Any] | None, field: str) -> dict[str, Decimal] | None:
    if price is None:
        return None
    if "exclTax" not in price:
        raise TariffRefused(
            "Rejected", "InvalidValue", f"{field}.exclTax", "required by this station"
        )
    limit = {"before_taxes": _number(price["exclTax"], f"{field}.exclTax")}
    if "inclTax" in price:
        limit["after_taxes"] = _number(price["inclTax"], f"{field}.inclTax")
    return limit


def from_ocpp(
    tariff: Mapping[str, Any],
    *,
    currency: str,
    now: datetime,
    language: str = "en",
) -> ConvertedTariff:
    """The OCPP 2.1 TariffType (numbers as Decimal or int, as read with parse_float=Decimal)
    as a validated OCPI tariff, or TariffRefused. ``currency`` is the station's."""
    tariff_id = str(tariff["tariffId"])
    if tariff.get("currency") != currency:
        raise TariffRefused(
            "Rejected",
            "InvalidValue",
            "tariff.currency",
            f"{tariff.get('currency')!r}: this station charges in {currency}",
        )
    valid_from = tariff.get("validFrom")
    if valid_from is not None:
        try:
            start = datetime.fromisoformat(str(valid_from).replace("Z", "+00:00"))
        except ValueError:
            raise TariffRefused(
                "Rejected", "InvalidValue", "tariff.validFrom", "not a date-time"
            ) from None
        if start.tzinfo is None or start > now:
            raise TariffRefused(
                "Rejected",
                "UnsupportedParam",
                "tariff.validFrom",
                "a tariff valid only from a future instant is not supported",
            )
    elements: list[dict[str, Any]] = []
    origins: list[str] = []  # the OCPP path of each element, for the parser's errors
    for ocpp_name, ocpi_type, price_key, per_minute in _DIMENSIONS:
        dimension = tariff.get(ocpp_name)
        if dimension is None:
            continue
        field = f"tariff.{ocpp_name}"
        vat = _tax(dimension, field)
        for i, entry in enumerate(dimension["prices"]):
            where = f"{field}.prices[{i}]"
            price = _number(entry[price_key], f"{where}.{price_key}")
            component: dict[str, Any] = {
                "type": ocpi_type,
                "price": price * _SIXTY if per_minute else price,
                "vat": vat,
            }
            if ocpi_type != "FLAT":
                component["step_size"] = 0
            element: dict[str, Any] = {"price_components": [component]}
            restrictions = _restrictions(entry.get("conditions") or {}, f"{where}.conditions")
            if restrictions:
                element["restrictions"] = restrictions
            elements.append(element)
            origins.append(where)
    if not elements:
        raise TariffRefused(
            "Rejected",
            "InvalidValue",
            "tariff",
            "no price: fixedFee, energy, chargingTime or idleTime is needed",
        )
    ocpi: dict[str, Any] = {
        "id": tariff_id,
        "currency": currency,
        "tax_included": "NO",
        "elements": elements,
    }
    for ocpp_key, ocpi_key in (("minCost", "min_price"), ("maxCost", "max_price")):
        limit = _limit(tariff.get(ocpp_key), f"tariff.{ocpp_key}")
        if limit is not None:
            ocpi[ocpi_key] = limit
    texts = [
        {"language": text.get("language") or language, "text": text["content"]}
        for text in tariff.get("description") or ()
        if text.get("format") in ("ASCII", "UTF8")
    ]
    if texts:
        ocpi["tariff_alt_text"] = texts
    try:
        parsed = parse_tariff(ocpi)
    except TariffError as exc:
        raise TariffRefused(
            "Rejected", "InvalidValue", _ocpp_path(exc.field, origins), exc.reason
        ) from None
    return ConvertedTariff(tariff_id, ocpi, parsed)


def _ocpp_path(field: str, origins: list[str]) -> str:
    """The parser's OCPI path ("elements[2].price_components[0].price") as the OCPP one."""
    match = re.match(r"elements\[(\d+)\]", field)
    if match is None or int(match.group(1)) >= len(origins):
        return f"tariff ({field})" if field else "tariff"
    return f"{origins[int(match.group(1))]} ({field})"
