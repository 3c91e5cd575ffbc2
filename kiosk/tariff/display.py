"""Amounts for people, and the hold a tariff asks for.

Price lines themselves are data (kiosk.tariff.lines), worded per language by
kiosk.tariff.wording.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from kiosk.money import Money, minor_unit_exponent
from kiosk.tariff.model import Tariff

_DECIMAL_COMMA = frozenset({"de", "fr"})


def _number(value: Decimal, places: int, lang: str) -> str:
    text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"
    if lang in _DECIMAL_COMMA:
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def format_amount(money: Money, lang: str = "en") -> str:
    """An amount for people: the minor unit's decimals, more (up to 4) only when needed."""
    exponent = money.amount.normalize().as_tuple().exponent
    needed = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    places = max(minor_unit_exponent(money.currency), min(needed, 4))
    text = _number(money.amount, places, lang)
    euro = money.currency == "EUR" and lang in _DECIMAL_COMMA
    return f"{text} €" if euro else f"{text} {money.currency}"


def hold_amount(tariff: Tariff, configured_minor: int) -> int:
    """preauthorize_amount (2.3.0) if the tariff sets it, else the configured hold."""
    if tariff.preauthorize_amount is not None:
        return Money(tariff.preauthorize_amount, tariff.currency).to_minor()
    return configured_minor
