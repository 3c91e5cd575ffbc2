"""Amounts, times and price lines as the phone pages show them, in the driver's language.

Amounts are gross and rounded by the one rounding rule (kiosk.money), so the page shows what
will be charged ("0,58 €", not "0.5831 EUR"); numbers, currency symbols and times follow the
locale (Babel's CLDR data); times are the station's local time.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal

from backend.texts import TEXTS
from kiosk.money import Money, round_amount
from kiosk.tariff import PRICE_LANGUAGES, parse_tariff, price_lines

# The engine words a line's conditions ("Mo–Fr, 17:00–21:00") in these languages.
_CONDITION_FALLBACK = "en"


def money(amount: Decimal, currency: str, lang: str) -> str:
    """A gross amount rounded as it is charged, in the locale's format: "€0.58", "0,58 €"."""
    return format_currency(round_amount(amount, currency), currency, locale=lang)


def money_minor(minor: int, currency: str, lang: str) -> str:
    return money(Money.from_minor(minor, currency).amount, currency, lang)


def local_time(moment: datetime, zone: str, lang: str) -> str:
    """The station's local date and time: "14.03.26, 18:35"."""
    return format_datetime(moment, "short", tzinfo=ZoneInfo(zone), locale=lang)


def tariff_lines(tariff: dict[str, Any], lang: str) -> tuple[list[str], str]:
    """The price lines in AFIR order ("Energy: 0,58 € per kWh (Mo–Fr, 17:00–21:00)") and one
    VAT note when every line has the same rate."""
    t = TEXTS[lang]
    wording = lang if lang in PRICE_LANGUAGES else _CONDITION_FALLBACK
    lines = price_lines(parse_tariff(tariff), wording)
    currency = str(tariff.get("currency", "EUR"))
    out = []
    for line in lines:
        kind = line.kind.lower()
        price = money(line.unit_price_incl_vat.amount, currency, lang)
        text = t[f"line_{kind}"].format(price=price)
        if line.conditions:
            text += f" ({line.conditions})"
        out.append(text)
    rates = {line.vat_percent for line in lines if line.vat_percent is not None}
    note = ""
    if len(rates) == 1:
        rate = next(iter(rates))
        note = t["vat_note"].format(rate=format_decimal(rate.normalize(), locale=lang))
    return out, note
