"""The range and precision each number in a tariff or a CDR may have.

Checked when the JSON is read (kiosk.tariff.reader), before any arithmetic: a price of
``1.1e27`` or a ``step_size`` of ``1E+999999`` is refused with the field's name instead of
overflowing Decimal's 28 digits or building a million-digit integer. With every input bounded,
the engine's work grows only with the number of periods and elements, and every amount it
computes stays far inside Decimal's precision (10^9 per unit x 10^6 units < 10^16).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Bound:
    """A number from 0 to ``maximum`` with at most ``places`` decimals."""

    maximum: Decimal
    places: int
    unit: str = ""

    def check(self, number: Decimal) -> str | None:
        """Why ``number`` (finite) is out of bounds, or None when it is fine."""
        if number < 0:
            return f"must not be negative, got {_show(number)}"
        if number > self.maximum:
            unit = f" {self.unit}" if self.unit else ""
            return f"must be at most {self.maximum:,}{unit}, got {_show(number)}"
        if decimals(number) > self.places:
            if self.places == 0:
                return f"expected a whole number, got {_show(number)}"
            return f"has more than {self.places} decimals: {_show(number)}"
        return None


def decimals(number: Decimal) -> int:
    """Significant decimal places: 0.590 has 2, 1E+3 has 0, 1E-999999 has 999999."""
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    trailing = len(digits) - len(bytes(digits).rstrip(b"\x00"))
    return max(0, -(exponent + trailing)) if any(digits) else 0


def _show(number: Decimal) -> str:
    """The number as given, shortened: a million-digit value must not fill the error."""
    text = str(number)
    return text if len(text) <= 40 else f"{text[:20]}…{text[-12:]}"


# OCPI prices have at most 4 decimals. 10^9 major units leaves room for currencies with
# small units (10^9 IRR is about 20,000 EUR) and keeps money far inside Decimal's precision.
PRICE = Bound(Decimal(10) ** 9, 4)
VAT_PERCENT = Bound(Decimal(100), 4, "%")
STEP_SIZE = Bound(Decimal(10) ** 7, 0, "(Wh or s)")  # 10 MWh, or 115 days
# Volumes are quotients the kiosk computes with Decimal's 28 significant digits (a period of
# 121 s is 0.03361111111111111111111111111 h: 29 decimals; one second, 31): 40 decimals take
# them down to 10^-12 at full precision, and still refuse 1E-999999.
VOLUME_PLACES = 40
ENERGY_KWH = Bound(Decimal(10) ** 6, VOLUME_PLACES, "kWh")
POWER_KW = Bound(Decimal(10) ** 6, VOLUME_PLACES, "kW")
CURRENT_A = Bound(Decimal(10) ** 6, VOLUME_PLACES, "A")
DURATION_S = Bound(Decimal(10) ** 9, 0, "s")  # about 31 years
HOURS = Bound(Decimal(10) ** 5, VOLUME_PLACES, "h")  # about 11 years
