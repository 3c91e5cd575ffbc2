"""OCPI tariff and CDR JSON -> validated model; every error names its JSON path and why.

Accepts OCPI 2.2.1 and 2.3.0 tariffs (``tax_included``, ``PriceLimit``, ``preauthorize_amount``),
bare or wrapped in an OCPI response envelope (``{"data": {...}}``). Numbers must arrive as
Decimal or int (load JSON with ``parse_float=Decimal``); a float is refused, never converted.
Fields that change money (price components, restrictions) must be spelled exactly: an unknown
key there is an error rather than a silently ignored restriction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from kiosk.money import minor_unit_exponent
from kiosk.tariff.bounds import (
    CURRENT_A,
    DURATION_S,
    ENERGY_KWH,
    HOURS,
    POWER_KW,
    PRICE,
    STEP_SIZE,
    VAT_PERCENT,
    Bound,
)
from kiosk.tariff.engine import hours_from_us, microseconds
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
from kiosk.tariff.periods import Cdr, CdrError, ChargingPeriod
from kiosk.tariff.reader import Node, kind_of, load_json

_TIME_RE = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_DATE_RE = re.compile(r"[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")

_COMPONENT_KEYS = frozenset({"type", "price", "vat", "step_size"})
_RESTRICTION_KEYS = frozenset(
    {
        "start_time",
        "end_time",
        "start_date",
        "end_date",
        "min_kwh",
        "max_kwh",
        "min_current",
        "max_current",
        "min_power",
        "max_power",
        "min_duration",
        "max_duration",
        "day_of_week",
        "reservation",
    }
)


# --------------------------------------------------------------------------- tariff


def _restrictions(node: Node) -> Restrictions:
    node.only(_RESTRICTION_KEYS)

    def clock(key: str) -> time | None:
        value = node.string(key, required=False)
        if value is None:
            return None
        if not _TIME_RE.fullmatch(value):
            node.fail(key, f"{value!r} is not a time of day as HH:MM (00:00 to 23:59)")
        return time(int(value[:2]), int(value[3:]))

    def day(key: str) -> date | None:
        value = node.string(key, required=False)
        if value is None:
            return None
        try:
            if not _DATE_RE.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            node.fail(key, f"{value!r} is not a date as YYYY-MM-DD")

    days_raw = node.raw("day_of_week", required=False) or []
    if not isinstance(days_raw, list):
        node.fail("day_of_week", f"expected a list, got {kind_of(days_raw)}")
    days: set[DayOfWeek] = set()
    for i, name in enumerate(days_raw):
        if not isinstance(name, str) or name not in DayOfWeek.__members__:
            node.fail(
                f"day_of_week[{i}]",
                f"unknown day {name!r} (expected one of: {', '.join(DayOfWeek.__members__)})",
            )
        days.add(DayOfWeek[name])
    restrictions = Restrictions(
        start_time=clock("start_time"),
        end_time=clock("end_time"),
        start_date=day("start_date"),
        end_date=day("end_date"),
        min_kwh=node.number("min_kwh", ENERGY_KWH),
        max_kwh=node.number("max_kwh", ENERGY_KWH),
        min_current=node.number("min_current", CURRENT_A),
        max_current=node.number("max_current", CURRENT_A),
        min_power=node.number("min_power", POWER_KW),
        max_power=node.number("max_power", POWER_KW),
        min_duration=node.integer("min_duration", DURATION_S),
        max_duration=node.integer("max_duration", DURATION_S),
        day_of_week=frozenset(days),
        reservation=node.enum("reservation", Reservation, required=False),
    )
    for low, high in (
        ("start_date", "end_date"),
        ("min_kwh", "max_kwh"),
        ("min_current", "max_current"),
        ("min_power", "max_power"),
        ("min_duration", "max_duration"),
    ):
        lo, hi = getattr(restrictions, low), getattr(restrictions, high)
        if lo is not None and hi is not None and lo >= hi:
            node.fail(
                high, f"must be greater than {low} ({lo}), got {hi}: the element never applies"
            )
    return restrictions


def _component(node: Node) -> PriceComponent:
    node.only(_COMPONENT_KEYS)
    dimension = node.enum("type", Dimension)
    assert dimension is not None
    price = node.number("price", PRICE, required=True)
    assert price is not None
    step = node.integer("step_size", STEP_SIZE, required=dimension is not Dimension.FLAT)
    return PriceComponent(
        type=dimension,
        price=price,
        vat=node.number("vat", VAT_PERCENT),
        step_size=1 if step is None else step,
    )


def _element(node: Node) -> TariffElement:
    components = tuple(_component(c) for c in node.objects("price_components"))
    restrictions = Restrictions()
    if node.has("restrictions"):
        restrictions = _restrictions(
            Node(node.data["restrictions"], node.at("restrictions"), node.error)
        )
    if restrictions.reservation is not None:
        for i, component in enumerate(components):
            if component.type not in (Dimension.FLAT, Dimension.TIME):
                node.fail(
                    f"price_components[{i}].type",
                    f"{component.type.value} is not allowed in a reservation element (FLAT, TIME)",
                )
    return TariffElement(price_components=components, restrictions=restrictions)


def _price_limit(node: Node, key: str) -> PriceLimit | None:
    if not node.has(key):
        return None
    limit = Node(node.data[key], node.at(key), node.error)
    if limit.has("before_taxes") or limit.has("after_taxes"):  # 2.3.0 PriceLimit
        excl = limit.number("before_taxes", PRICE, required=True)
        incl = limit.number("after_taxes", PRICE)
    else:  # 2.2.1 Price
        excl = limit.number("excl_vat", PRICE, required=True)
        incl = limit.number("incl_vat", PRICE)
    assert excl is not None
    if incl is not None and incl < excl:
        limit.fail("", f"the amount including tax ({incl}) is below the amount without ({excl})")
    return PriceLimit(excl_vat=excl, incl_vat=incl)


def _tariff_error(field: str, reason: str) -> TariffError:
    return TariffError(field, reason)


def parse_tariff(obj: Mapping[str, object]) -> Tariff:
    """A validated Tariff from an OCPI 2.2.1 / 2.3.0 tariff object (or a response envelope)."""
    if isinstance(obj, Mapping) and "elements" not in obj and isinstance(obj.get("data"), Mapping):
        data = obj["data"]
        assert isinstance(data, Mapping)
        obj = data
    node = Node(obj, "", _tariff_error)
    currency = node.string("currency")
    assert currency is not None
    try:
        minor_unit_exponent(currency)
    except ValueError:
        node.fail("currency", f"{currency!r} is not an ISO 4217 currency code")
    tariff_id = node.string("id")
    assert tariff_id is not None
    elements = tuple(_element(e) for e in node.objects("elements"))
    tax = node.enum("tax_included", TaxIncluded, required=False)
    is_230 = (
        tax is not None
        or node.has("preauthorize_amount")
        or any(
            isinstance(node.data.get(k), Mapping) and "before_taxes" in node.data[k]  # type: ignore[operator]
            for k in ("min_price", "max_price")
        )
    )
    low, high = _price_limit(node, "min_price"), _price_limit(node, "max_price")
    if low is not None and high is not None:
        for side, low_side, high_side in (
            ("excluding", low.excl_vat, high.excl_vat),
            ("including", low.incl_vat, high.incl_vat),
        ):
            if low_side is not None and high_side is not None and low_side > high_side:
                node.fail("max_price", f"is below min_price {side} tax ({high_side} < {low_side})")
    alt_text: list[tuple[str, str]] = []
    for text in node.objects("tariff_alt_text", required=False):
        language, body = text.string("language"), text.string("text")
        assert language is not None and body is not None
        alt_text.append((language, body))
    start, end = node.timestamp("start_date_time", False), node.timestamp("end_date_time", False)
    if start is not None and end is not None and end <= start:
        node.fail("end_date_time", "must be after start_date_time")
    return Tariff(
        id=tariff_id,
        currency=currency,
        elements=elements,
        min_price=low,
        max_price=high,
        tax_included=tax if tax is not None else TaxIncluded.NO,
        preauthorize_amount=node.number("preauthorize_amount", PRICE),
        ocpi_version="2.3.0" if is_230 else "2.2.1",
        country_code=node.string("country_code", required=False),
        party_id=node.string("party_id", required=False),
        type=node.string("type", required=False),
        start_date_time=start,
        end_date_time=end,
        alt_text=tuple(alt_text),
        raw=obj,
    )


def load_tariff(path: str | Path) -> Tariff:
    """Read and validate a tariff JSON file; errors name the file's field and why."""
    return parse_tariff(load_json(path, _tariff_error))


# --------------------------------------------------------------------------- CDR

_CDR_DIMENSIONS = frozenset(
    {
        "ENERGY",
        "MAX_CURRENT",
        "MIN_CURRENT",
        "MAX_POWER",
        "MIN_POWER",
        "PARKING_TIME",
        "RESERVATION_TIME",
        "TIME",
        # Session-only in OCPI, tolerated in CDR files and ignored:
        "CURRENT",
        "ENERGY_EXPORT",
        "ENERGY_IMPORT",
        "POWER",
        "STATE_OF_CHARGE",
    }
)

_VOLUME_BOUNDS: dict[str, Bound] = {
    "ENERGY": ENERGY_KWH,
    "ENERGY_EXPORT": ENERGY_KWH,
    "ENERGY_IMPORT": ENERGY_KWH,
    "MAX_CURRENT": CURRENT_A,
    "MIN_CURRENT": CURRENT_A,
    "CURRENT": CURRENT_A,
    "MAX_POWER": POWER_KW,
    "MIN_POWER": POWER_KW,
    "POWER": POWER_KW,
    "PARKING_TIME": HOURS,
    "RESERVATION_TIME": HOURS,
    "TIME": HOURS,
    "STATE_OF_CHARGE": Bound(Decimal(100), 20, "%"),
}


def _period(node: Node, end: datetime) -> ChargingPeriod:
    start = node.timestamp("start_date_time")
    assert start is not None
    volumes: dict[str, Decimal] = {}
    for dim in node.objects("dimensions"):
        kind = dim.string("type")
        assert kind is not None
        if kind not in _CDR_DIMENSIONS:
            dim.fail("type", f"unknown dimension {kind!r}")
        if kind in volumes:
            dim.fail("type", f"{kind} is listed twice in one period")
        volume = dim.number("volume", _VOLUME_BOUNDS[kind], required=True)
        assert volume is not None
        volumes[kind] = volume
    time_h, parking_h = volumes.get("TIME"), volumes.get("PARKING_TIME")
    if time_h is None and parking_h is None:  # no time listed: the period is charging time
        time_h = hours_from_us(microseconds(end - start))
    return ChargingPeriod(
        start=start,
        energy_kwh=volumes.get("ENERGY", Decimal(0)),
        time_h=time_h or Decimal(0),
        parking_h=parking_h or Decimal(0),
        max_power_kw=volumes.get("MAX_POWER"),
        min_power_kw=volumes.get("MIN_POWER"),
        max_current_a=volumes.get("MAX_CURRENT"),
        min_current_a=volumes.get("MIN_CURRENT"),
        tariff_id=node.string("tariff_id", required=False),
    )


def _cdr_error(field: str, reason: str) -> TariffError:
    return CdrError(field, reason)


def parse_cdr(obj: Mapping[str, object]) -> Cdr:
    """The parts of an OCPI CDR that pricing uses; any totals in it are ignored."""
    if (
        isinstance(obj, Mapping)
        and "charging_periods" not in obj
        and isinstance(obj.get("data"), Mapping)
    ):
        data = obj["data"]
        assert isinstance(data, Mapping)
        obj = data
    node = Node(obj, "", _cdr_error)
    start, end = node.timestamp("start_date_time"), node.timestamp("end_date_time")
    assert start is not None and end is not None
    if end < start:
        node.fail("end_date_time", f"is before start_date_time ({end} < {start})")
    nodes = node.objects("charging_periods")
    starts: list[datetime] = []
    for p in nodes:
        at = p.timestamp("start_date_time")
        assert at is not None
        if at < start or at > end:
            p.fail("start_date_time", "is outside the session (start_date_time..end_date_time)")
        if starts and at < starts[-1]:
            p.fail(
                "start_date_time", "is before the previous period's start: periods must be in order"
            )
        starts.append(at)
    ends = [*starts[1:], end]
    periods = tuple(_period(p, period_end) for p, period_end in zip(nodes, ends, strict=True))
    currency = node.string("currency", required=False)
    return Cdr(
        start_date_time=start,
        end_date_time=end,
        charging_periods=periods,
        currency=currency,
        id=node.string("id", required=False),
    )


def load_cdr(path: str | Path) -> Cdr:
    """Read and validate a CDR JSON file; errors name the field and why."""
    return parse_cdr(load_json(path, _cdr_error))
