"""Money: a Decimal amount in one ISO 4217 currency, and THE one rounding rule.

Inside the core every amount is a ``Decimal``; at every boundary (card terminal, payment
gateway, JSON for the backend) it is an integer count of the currency's minor unit. There is
exactly one rounding rule, applied in one place (:meth:`Money.rounded`):

    **round half up (away from zero on a tie) to the currency's minor unit.**

    EUR 0.125 -> 0.13, EUR 0.1249 -> 0.12, JPY 12.5 -> 13, KWD 0.0005 -> 0.001.

Half up is what a person checking a receipt by hand expects (it is also the German commercial
rule, "kaufmännisches Runden"); Python's default banker's rounding is not. Floats never enter:
every constructor and operator refuses them with a TypeError, because ``19.99 * 100`` is not
1999 in binary floating point.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

ROUNDING: Final = ROUND_HALF_UP

# ISO 4217 active codes by minor-unit exponent (list of 2024). Currencies absent here are
# refused rather than guessed: a wrong exponent would move every amount by a factor of ten.


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


_EXPONENT_0: Final = _codes("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF")
_EXPONENT_3: Final = _codes("BHD IQD JOD KWD LYD OMR TND")
_EXPONENT_4: Final = _codes("CLF UYW")
_EXPONENT_2: Final = _codes(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD
    KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD
    NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP
    SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED
    VES WST XCD XCG YER ZAR ZMW ZWG
    """
)


_EXPONENTS: Final[dict[str, int]] = {
    code: exponent
    for exponent, codes in ((0, _EXPONENT_0), (2, _EXPONENT_2), (3, _EXPONENT_3), (4, _EXPONENT_4))
    for code in codes
}
_QUANTA: Final[dict[str, Decimal]] = {
    code: Decimal(1).scaleb(-exponent) for code, exponent in _EXPONENTS.items()
}


def minor_unit_exponent(currency: str) -> int:
    """Number of decimals of the currency's minor unit (ISO 4217): EUR 2, JPY 0, KWD 3."""
    try:
        return _EXPONENTS[currency]
    except (KeyError, TypeError):
        raise ValueError(
            f"currency {currency!r}: not an ISO 4217 currency code with minor units"
        ) from None


def round_amount(amount: Decimal, currency: str) -> Decimal:
    """THE rounding rule on a bare Decimal: half up to the currency's minor unit."""
    return amount.quantize(_QUANTA[currency], rounding=ROUNDING)


def parse_decimal(value: object, field: str) -> Decimal:
    """A finite Decimal from JSON-ish input (str, int, Decimal); ``field`` names it in errors.

    A float is refused: by the time a float exists its decimal digits are already lost. Parse
    JSON with ``json.loads(text, parse_float=Decimal)`` so numbers arrive as Decimal.
    """
    if isinstance(value, bool):  # bool is an int subclass; true/false is never an amount
        raise ValueError(f"{field}: expected a number, got {str(value).lower()}")
    if isinstance(value, float):
        raise TypeError(f"{field}: float {value!r} refused; parse JSON with parse_float=Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            shown = value if len(value) <= 40 else f"{value[:37]}..."
            raise ValueError(f"{field}: {shown!r} is not a decimal number") from None
    else:
        raise ValueError(f"{field}: expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{field}: {value!r} is not a finite number")
    return result


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency. Arithmetic keeps full precision until :meth:`rounded`."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money amount must be Decimal, not {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise ValueError(f"Money amount {self.amount!r} is not finite")
        if self.currency not in _EXPONENTS:  # the table holds upper-case ISO 4217 codes only
            if isinstance(self.currency, str) and self.currency.upper() in _EXPONENTS:
                raise ValueError(f"currency {self.currency!r}: use the upper-case ISO 4217 code")
            minor_unit_exponent(self.currency)

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """Money from an integer count of minor units: ``from_minor(1999, "EUR")`` is 19.99."""
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise TypeError(f"minor units must be int, not {type(minor).__name__}")
        return cls(Decimal(minor).scaleb(-minor_unit_exponent(currency)), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def of(cls, value: object, currency: str, field: str = "amount") -> Money:
        """Money from a str/int/Decimal (never float), e.g. ``Money.of("0.59", "EUR")``."""
        return cls(parse_decimal(value, field), currency)

    # ------------------------------------------------------------------ the rounding rule

    def rounded(self) -> Money:
        """THE rounding rule: half up to the currency's minor unit."""
        return Money(round_amount(self.amount, self.currency), self.currency)

    def to_minor(self) -> int:
        """Integer minor units; exact when already rounded, else after :meth:`rounded`."""
        return int(self.rounded().amount.scaleb(minor_unit_exponent(self.currency)))

    def is_rounded(self) -> bool:
        return self.amount == self.rounded().amount

    # ------------------------------------------------------------------ arithmetic

    def _same_currency(self, other: object, op: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {op} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"cannot {op} {self.currency} and {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same_currency(other, "add").amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same_currency(other, "subtract").amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            kind = type(factor).__name__
            raise TypeError(f"Money can be multiplied by int or Decimal, not {kind}")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same_currency(other, "compare").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same_currency(other, "compare").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same_currency(other, "compare").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same_currency(other, "compare").amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def format(self) -> str:
        """Rounded amount with the currency code, e.g. ``19.03 EUR`` (for logs and CLI)."""
        return f"{self.rounded().amount} {self.currency}"
