"""Amounts, times and price lines as the phone pages show them, in the driver's language.

Amounts are gross and rounded by the one rounding rule (kiosk.money), so the page shows what
will be charged ("0,58 €", not "0.5831 EUR"); numbers, currency symbols and times follow the
locale (Babel's CLDR data); times are the station's local time.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency

from kiosk.money import Money, round_amount


def money(amount: Decimal, currency: str, lang: str) -> str:
    """A gross amount rounded as it is charged, in the locale's format: "€0.58", "0,58 €"."""
    return format_currency(round_amount(amount, currency), currency, locale=lang)


def money_minor(minor: int, currency: str, lang: str) -> str:
    return money(Money.from_minor(minor, currency).amount, currency, lang)


def local_time(moment: datetime, zone: str, lang: str) -> str:
    """The station's local date and time: "14.03.26, 18:35"."""
    return format_datetime(moment, "short", tzinfo=ZoneInfo(zone), locale=lang)
