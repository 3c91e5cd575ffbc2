"""The OCPI tariff as typed, validated values (2.2.1 and the 2.3.0 additions).

One internal model serves both versions: prices and limits keep the number the tariff gave,
and ``tax_included`` says how to read it (2.2.1 prices are always excluding VAT, which is
``TaxIncluded.NO``). ``raw`` keeps the JSON the tariff came from, so a session can store the
exact snapshot it was priced with.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from decimal import Decimal


class TariffError(ValueError):
    """A tariff that cannot be used. ``field`` is a JSON path, ``reason`` says why."""

    def __init__(self, field: str, reason: str, source: str = "tariff") -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{source}: {field}: {reason}" if field else f"{source}: {reason}")


class Dimension(enum.Enum):
    """OCPI TariffDimensionType: what a price component charges for."""

    ENERGY = "ENERGY"  # per kWh, step_size in Wh
    FLAT = "FLAT"  # once per session
    TIME = "TIME"  # per hour charging, step_size in seconds
    PARKING_TIME = "PARKING_TIME"  # per hour not charging, step_size in seconds

    # Members are singletons compared by identity; the C-level hash keeps the pricing
    # loop's dictionary lookups cheap (Enum's own __hash__ is Python code).
    __hash__ = object.__hash__


class TaxIncluded(enum.Enum):
    """OCPI 2.3.0 ``tax_included``: whether component prices include tax."""

    YES = "YES"
    NO = "NO"
    NOT_APPLICABLE = "N/A"


class DayOfWeek(enum.Enum):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


class Reservation(enum.Enum):
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


@dataclass(frozen=True, slots=True)
class PriceComponent:
    type: Dimension
    price: Decimal  # per kWh / hour / session, as the tariff states it (see Tariff.tax_included)
    vat: Decimal | None  # percent; None = no VAT stated (priced as 0 %)
    step_size: int  # Wh for ENERGY, seconds for TIME/PARKING_TIME, unused for FLAT


@dataclass(frozen=True, slots=True)
class Restrictions:
    """OCPI TariffRestrictions. Every field None/empty means "no restriction on this"."""

    start_time: time | None = None  # local, inclusive
    end_time: time | None = None  # local, exclusive; earlier than start_time wraps midnight
    start_date: date | None = None  # local, inclusive
    end_date: date | None = None  # local, exclusive
    min_kwh: Decimal | None = None  # session energy so far, inclusive
    max_kwh: Decimal | None = None  # exclusive
    min_current: Decimal | None = None  # A, inclusive
    max_current: Decimal | None = None  # A, exclusive
    min_power: Decimal | None = None  # kW, inclusive
    max_power: Decimal | None = None  # kW, exclusive
    min_duration: int | None = None  # seconds since session start, inclusive
    max_duration: int | None = None  # exclusive
    day_of_week: frozenset[DayOfWeek] = frozenset()
    reservation: Reservation | None = None
    # No field set: the element applies at any instant (asked once per period priced).
    unrestricted: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        empty = all(getattr(self, f) in (None, frozenset()) for f in _RESTRICTION_FIELDS)
        object.__setattr__(self, "unrestricted", empty)

    def is_empty(self) -> bool:
        return self.unrestricted


_RESTRICTION_FIELDS = tuple(f.name for f in fields(Restrictions) if f.init)


@dataclass(frozen=True, slots=True)
class TariffElement:
    price_components: tuple[PriceComponent, ...]
    restrictions: Restrictions = field(default_factory=Restrictions)
    # Per dimension, the component that prices it: the first one listed.
    by_dimension: Mapping[Dimension, PriceComponent] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        first: dict[Dimension, PriceComponent] = {}
        for component in self.price_components:
            first.setdefault(component.type, component)
        object.__setattr__(self, "by_dimension", first)

    def component(self, dimension: Dimension) -> PriceComponent | None:
        """The element's component for this dimension (the first one if several are listed)."""
        return self.by_dimension.get(dimension)


@dataclass(frozen=True, slots=True)
class PriceLimit:
    """min_price / max_price: 2.2.1 Price (excl_vat, incl_vat) or 2.3.0 PriceLimit
    (before_taxes, after_taxes). Each bound that is given applies on its own."""

    excl_vat: Decimal
    incl_vat: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Tariff:
    id: str
    currency: str
    elements: tuple[TariffElement, ...]
    min_price: PriceLimit | None = None
    max_price: PriceLimit | None = None
    tax_included: TaxIncluded = TaxIncluded.NO
    preauthorize_amount: Decimal | None = None
    ocpi_version: str = "2.2.1"  # "2.3.0" when any 2.3.0-only field was present
    country_code: str | None = None
    party_id: str | None = None
    type: str | None = None
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None
    alt_text: tuple[tuple[str, str], ...] = ()  # (language, text)
    raw: Mapping[str, object] = field(default_factory=dict, compare=False, repr=False)

    def vat_rates(self) -> frozenset[Decimal]:
        """Every VAT rate used by a component (a missing rate counts as 0 %)."""
        return frozenset(
            c.vat if c.vat is not None else Decimal(0)
            for e in self.elements
            for c in e.price_components
        )
