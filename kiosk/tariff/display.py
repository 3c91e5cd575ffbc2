"""The price as a driver sees it before starting (AFIR): one line per component."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.money import Money
from kiosk.tariff.model import Tariff


@dataclass(frozen=True, slots=True)
class PriceLine:
    kind: str  # "ENERGY" | "TIME" | "PARKING_TIME" | "FLAT" | "MIN_PRICE" | "MAX_PRICE"
    text: str
    unit_price_incl_vat: Money
    unit: str  # "kWh", "h", "session"


def price_lines(tariff: Tariff, lang: str = "en") -> list[PriceLine]:
    raise NotImplementedError


def hold_amount(tariff: Tariff, configured_minor: int) -> int:
    """preauthorize_amount (2.3.0) if the tariff sets it, else the configured hold."""
    if tariff.preauthorize_amount is not None:
        return Money(tariff.preauthorize_amount, tariff.currency).to_minor()
    return configured_minor
