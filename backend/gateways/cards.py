"""Card form checks and masking, shared by every gateway that sees a card number."""

from __future__ import annotations

from datetime import datetime

from backend.gateways.base import CardDetails, CardFieldError

# Brand by leading digits, longest prefix first; enough for display on a receipt.
BRAND_PREFIXES: tuple[tuple[str, str], ...] = (
    ("34", "amex"),
    ("37", "amex"),
    ("51", "mastercard"),
    ("52", "mastercard"),
    ("53", "mastercard"),
    ("54", "mastercard"),
    ("55", "mastercard"),
    ("2", "mastercard"),
    ("4", "visa"),
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def clean_number(raw: str) -> str:
    number = raw.replace(" ", "").replace("-", "")
    if not number.isdigit() or not 12 <= len(number) <= 19:
        raise CardFieldError("Card number", "enter the 12 to 19 digits on the card")
    if not luhn_ok(number):
        raise CardFieldError("Card number", "this number is not valid, check the digits")
    return number


def check_expiry(raw: str, now: datetime) -> None:
    text = raw.replace(" ", "")
    month_s, sep, year_s = text.partition("/")
    if not sep or not month_s.isdigit() or not year_s.isdigit() or len(year_s) not in (2, 4):
        raise CardFieldError("Expiry", "use the form MM/YY")
    month, year = int(month_s), int(year_s)
    year = year + 2000 if year < 100 else year
    if not 1 <= month <= 12:
        raise CardFieldError("Expiry", "the month must be 01 to 12")
    if (year, month) < (now.year, now.month):
        raise CardFieldError("Expiry", "this card has expired")


def check_cvc(raw: str) -> None:
    if not raw.strip().isdigit() or len(raw.strip()) not in (3, 4):
        raise CardFieldError("CVC", "enter the 3 or 4 digits on the back of the card")


def validate(card: CardDetails, now: datetime) -> str:
    """The digits of a usable card number, or CardFieldError naming the first bad field."""
    number = clean_number(card.number)
    check_expiry(card.expiry, now)
    check_cvc(card.cvc)
    return number


def mask(number: str) -> str:
    """First 6 and last 4 digits at most (PCI DSS display rule)."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def brand_of(number: str) -> str:
    for prefix, brand in BRAND_PREFIXES:
        if number.startswith(prefix):
            return brand
    return "card"
