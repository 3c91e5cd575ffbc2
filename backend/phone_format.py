"""Amounts, numbers, times and price lines as the phone pages show them, in the driver's language.

One place formats every amount on the pay page, the status pages and the digital receipt:
gross amounts rounded by the one rounding rule (kiosk.money), so a page shows what will be
charged ("6,25 €", "€6.25", not "EUR 6.25" or "0.5831 EUR"); numbers, currency symbols,
percentages and times follow the locale (Babel's CLDR data, which also brings French
typography: "6,25 €" and "19 %" with non-breaking spaces); times are the station's local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from kiosk.money import Money, minor_unit_exponent, round_amount
from kiosk.tariff.wording import FileWords


def money(amount: Decimal, currency: str, lang: str) -> str:
    """An amount rounded as it is charged, in the locale's format: "€0.58", "0,58 €"."""
    return format_currency(round_amount(amount, currency), currency, locale=lang)


def money_minor(minor: int, currency: str, lang: str) -> str:
    return money(Money.from_minor(minor, currency).amount, currency, lang)


def unit_money(value: Decimal, currency: str, places: int, lang: str) -> str:
    """A unit price with exactly ``places`` decimals ("0,5831 €" per kWh): not rounded to
    the currency's minor unit, because it is what each kWh is billed at."""
    quantum = Decimal(1).scaleb(-places)
    return format_currency(
        value.quantize(quantum), currency, locale=lang, decimal_quantization=False
    )


def number(value: Decimal, places: int, lang: str) -> str:
    """A plain number with ``places`` decimals in the locale's format: "6,250" (kWh)."""
    pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
    return format_decimal(value, format=pattern, locale=lang, decimal_quantization=True)


def percent(rate: Decimal, lang: str) -> str:
    """A VAT rate given in percent (19) as the locale writes it: "19%", "19 %"."""
    return format_percent(rate / 100, locale=lang, decimal_quantization=False)


def local_time(moment: datetime, zone: str, lang: str) -> str:
    """The station's local date and time: "14.03.26, 18:35"."""
    return format_datetime(moment, "short", tzinfo=ZoneInfo(zone), locale=lang)


@dataclass(frozen=True)
class PhoneWords:
    """The kiosk's price wording (kiosk.tariff.wording) with the phone pages' numbers and
    amounts, so a price line on the pay page is formatted like every other amount there."""

    words: FileWords

    @property
    def code(self) -> str:
        return self.words.code

    def text(self, key: str, **values: object) -> str:
        return self.words.text(key, **values)

    def number(self, value: Decimal, places: int) -> str:
        return number(value, places, self.code)

    def money_value(self, value: Decimal, currency: str, places: int | None = None) -> str:
        places = minor_unit_exponent(currency) if places is None else places
        return unit_money(value, currency, places, self.code)
