"""The OCPI tariff engine: one place that turns a tariff and metered values into money.

The price preview, the live cost on screen, the amount captured, the receipt and the backend
report all come from here, so they agree to the cent. See docs/pricing.md.
"""

from kiosk.tariff.display import hold_amount
from kiosk.tariff.engine import CostBreakdown, Price, price_session
from kiosk.tariff.lines import PriceLine, PriceWhen, price_lines
from kiosk.tariff.live import LiveCostCalculator
from kiosk.tariff.model import (
    DayOfWeek,
    Dimension,
    PriceComponent,
    PriceLimit,
    Reservation,
    Restrictions,
    Tariff,
    TariffElement,
    TariffError,
    TaxIncluded,
)
from kiosk.tariff.now import PriceNow, price_now
from kiosk.tariff.parse import load_cdr, load_tariff, parse_cdr, parse_tariff
from kiosk.tariff.periods import Cdr, CdrError, ChargingPeriod

__all__ = [
    "Cdr",
    "CdrError",
    "ChargingPeriod",
    "CostBreakdown",
    "DayOfWeek",
    "Dimension",
    "LiveCostCalculator",
    "Price",
    "PriceComponent",
    "PriceLimit",
    "PriceLine",
    "PriceNow",
    "PriceWhen",
    "Reservation",
    "Restrictions",
    "Tariff",
    "TariffElement",
    "TariffError",
    "TaxIncluded",
    "hold_amount",
    "load_cdr",
    "load_tariff",
    "parse_cdr",
    "parse_tariff",
    "price_lines",
    "price_now",
    "price_session",
]
