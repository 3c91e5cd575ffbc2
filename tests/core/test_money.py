"""Money: minor units, THE rounding rule, and refusing floats and mixed currencies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.money import Money, minor_unit_exponent, parse_decimal


@pytest.mark.parametrize(
    ("currency", "exponent"), [("EUR", 2), ("GBP", 2), ("JPY", 0), ("KWD", 3), ("CLF", 4)]
)
def test_minor_unit_exponent(currency: str, exponent: int) -> None:
    assert minor_unit_exponent(currency) == exponent


@pytest.mark.parametrize("currency", ["XXX", "eur", "EURO", ""])
def test_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        minor_unit_exponent(currency)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("0.125", "EUR", 13),  # a tie rounds up, not to even
        ("0.135", "EUR", 14),
        ("2.665", "EUR", 267),  # banker's rounding would give 266
        ("0.1249", "EUR", 12),
        ("-0.125", "EUR", -13),  # half away from zero
        ("12.5", "JPY", 13),
        ("0.0005", "KWD", 1),
        ("19.99", "EUR", 1999),
    ],
)
def test_the_rounding_rule_is_half_up(amount: str, currency: str, minor: int) -> None:
    assert Money(Decimal(amount), currency).to_minor() == minor


def test_from_minor_round_trips() -> None:
    assert Money.from_minor(1999, "EUR").amount == Decimal("19.99")
    assert Money.from_minor(1999, "JPY").amount == Decimal(1999)
    assert Money.from_minor(5, "KWD").amount == Decimal("0.005")
    assert Money.from_minor(-250, "EUR").to_minor() == -250


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["EUR", "JPY", "KWD"]))
@settings(max_examples=60)
def test_minor_units_round_trip_exactly(minor: int, currency: str) -> None:
    money = Money.from_minor(minor, currency)
    assert money.is_rounded()
    assert money.to_minor() == minor


def test_floats_are_refused_everywhere() -> None:
    with pytest.raises(TypeError):
        Money(0.1, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of("1.00", "EUR") * 1.19  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money.from_minor(1.0, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="parse_float=Decimal"):
        parse_decimal(19.99, "price")


def test_mixed_currencies_are_refused() -> None:
    with pytest.raises(ValueError, match="EUR and GBP"):
        Money.of("1", "EUR") + Money.of("1", "GBP")
    with pytest.raises(TypeError):
        Money.of("1", "EUR") + Decimal(1)  # type: ignore[operator]


def test_arithmetic_keeps_full_precision_until_rounded() -> None:
    price = Money.of("0.59", "EUR")
    cost = price * Decimal("12.345")
    assert cost.amount == Decimal("7.28355")
    assert cost.rounded().amount == Decimal("7.28")
    assert (cost + Money.of("0.005", "EUR")).rounded().amount == Decimal("7.29")
    assert (Money.of("5", "EUR") - Money.of("7.5", "EUR")).amount == Decimal("-2.5")
    assert 3 * Money.of("0.1", "EUR") == Money.of("0.3", "EUR")


@pytest.mark.parametrize(
    ("value", "message"),
    [("abc", "not a decimal"), ("NaN", "not a finite"), (True, "expected a number"), ([], "list")],
)
def test_parse_decimal_names_the_field(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_decimal(value, "elements[0].price")
    assert "elements[0].price" in str(info.value)


def test_parse_decimal_accepts_str_int_decimal() -> None:
    assert parse_decimal("0.59", "x") == Decimal("0.59")
    assert parse_decimal(3, "x") == Decimal(3)
    assert parse_decimal(Decimal("1.5"), "x") == Decimal("1.5")


def test_lowercase_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="upper-case"):
        Money(Decimal(1), "eur")
