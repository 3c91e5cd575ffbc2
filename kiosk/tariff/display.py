"""The price as a driver must see it before starting (AFIR): every component, per kWh first.

Unit prices are shown including VAT (consumer prices in the EU are gross), with the minor
unit's decimals, or up to four decimals when the exact price needs them, so what is shown is
what is billed. Restrictions are put in words: "17:00–21:00", "Mon–Fri", "from 20 kWh".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from kiosk.money import Money, minor_unit_exponent
from kiosk.tariff.engine import limit_bounds
from kiosk.tariff.model import (
    DayOfWeek,
    Dimension,
    PriceComponent,
    Restrictions,
    Tariff,
    TaxIncluded,
)

_ORDER = (Dimension.ENERGY, Dimension.TIME, Dimension.PARKING_TIME, Dimension.FLAT)

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "ENERGY": "Energy",
        "TIME": "Charging time",
        "PARKING_TIME": "Parking (not charging)",
        "FLAT": "Session fee",
        "MIN_PRICE": "Minimum price per session",
        "MAX_PRICE": "Maximum price per session",
        "per_session": "per session",
        "otherwise": "otherwise",
        "from": "from",
        "below": "below",
        "after": "after",
        "first": "first",
        "until": "until",
        "reservation": "reservation",
        "vat": "incl. {rate} % VAT",
        "no_vat": "no VAT",
        "billed": "billed per {step}",
        "days": "Mon Tue Wed Thu Fri Sat Sun",
        "decimal": ".",
        "min": "min",
    },
    "de": {
        "ENERGY": "Energie",
        "TIME": "Ladezeit",
        "PARKING_TIME": "Standzeit (ohne Laden)",
        "FLAT": "Grundgebühr",
        "MIN_PRICE": "Mindestpreis je Ladevorgang",
        "MAX_PRICE": "Höchstpreis je Ladevorgang",
        "per_session": "je Ladevorgang",
        "otherwise": "sonst",
        "from": "ab",
        "below": "unter",
        "after": "nach",
        "first": "erste",
        "until": "bis",
        "reservation": "Reservierung",
        "vat": "inkl. {rate} % MwSt.",
        "no_vat": "ohne MwSt.",
        "billed": "abgerechnet je {step}",
        "days": "Mo Di Mi Do Fr Sa So",
        "decimal": ",",
        "min": "Min.",
    },
}
_UNITS = {Dimension.ENERGY: "kWh", Dimension.TIME: "h", Dimension.PARKING_TIME: "h"}
PRICE_LANGUAGES: Final = frozenset(_WORDS)  # the languages price_lines() can word


@dataclass(frozen=True, slots=True)
class PriceLine:
    kind: str  # "ENERGY" | "TIME" | "PARKING_TIME" | "FLAT" | "MIN_PRICE" | "MAX_PRICE"
    text: str
    unit_price_incl_vat: Money  # exact, per unit (kWh, hour) or per session
    unit: str  # "kWh", "h", "session"
    conditions: str = ""  # the restrictions in words, "" when always
    vat_percent: Decimal | None = None


def _number(value: Decimal, places: int, lang: str) -> str:
    text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"
    if _WORDS[lang]["decimal"] == ",":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def format_amount(money: Money, lang: str = "en") -> str:
    """An amount for people: the minor unit's decimals, more (up to 4) only when needed."""
    exponent = money.amount.normalize().as_tuple().exponent
    needed = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    places = max(minor_unit_exponent(money.currency), min(needed, 4))
    text = _number(money.amount, places, lang)
    return f"{text} €" if money.currency == "EUR" and lang == "de" else f"{text} {money.currency}"


def _gross(component: PriceComponent, tariff: Tariff) -> Decimal:
    if tariff.tax_included is TaxIncluded.NO and component.vat is not None:
        return component.price * (1 + component.vat / 100)
    return component.price


def _clock(value: object) -> str:
    return f"{value:%H:%M}"


def _days(days: frozenset[DayOfWeek], lang: str) -> str:
    names = _WORDS[lang]["days"].split()
    indexes = sorted(d.value for d in days)
    runs: list[list[int]] = []
    for i in indexes:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ", ".join(
        f"{names[r[0]]}–{names[r[-1]]}" if len(r) > 2 else ", ".join(names[i] for i in r)
        for r in runs
    )


def _minutes(seconds: int, lang: str) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} {_WORDS[lang]['min']}"
    return f"{seconds} s"


def conditions(r: Restrictions, lang: str = "en") -> str:
    """A tariff element's restrictions in words; "" when it always applies."""
    w = _WORDS[lang]
    parts: list[str] = []
    if r.day_of_week:
        parts.append(_days(r.day_of_week, lang))
    if r.start_time is not None or r.end_time is not None:
        start = _clock(r.start_time) if r.start_time is not None else "00:00"
        end = _clock(r.end_time) if r.end_time is not None else "24:00"
        parts.append(f"{start}–{'24:00' if end == '00:00' else end}")
    if r.start_date is not None:
        parts.append(f"{w['from']} {r.start_date.isoformat()}")
    if r.end_date is not None:
        parts.append(f"{w['until']} {r.end_date.isoformat()}")
    for low, high, unit in (
        (r.min_kwh, r.max_kwh, "kWh"),
        (r.min_power, r.max_power, "kW"),
        (r.min_current, r.max_current, "A"),
    ):
        if low is not None:
            parts.append(f"{w['from']} {_trim(low, lang)} {unit}")
        if high is not None:
            parts.append(f"{w['below']} {_trim(high, lang)} {unit}")
    if r.min_duration is not None:
        parts.append(f"{w['after']} {_minutes(r.min_duration, lang)}")
    if r.max_duration is not None:
        parts.append(f"{w['first']} {_minutes(r.max_duration, lang)}")
    if r.reservation is not None:
        parts.append(w["reservation"])
    return ", ".join(parts)


def _trim(value: Decimal, lang: str) -> str:
    text = format(value.normalize(), "f")
    return text.replace(".", ",") if lang == "de" else text


def _step_text(component: PriceComponent, lang: str) -> str:
    step = component.step_size
    if component.type is Dimension.ENERGY and step > 1:
        amount = f"{_trim(Decimal(step) / 1000, lang)} kWh" if step >= 100 else f"{step} Wh"
        return _WORDS[lang]["billed"].format(step=amount)
    if component.type in (Dimension.TIME, Dimension.PARKING_TIME) and step > 1:
        return _WORDS[lang]["billed"].format(step=_minutes(step, lang))
    return ""


def price_lines(tariff: Tariff, lang: str = "en") -> list[PriceLine]:
    """Every price component as a line: per kWh first, then time, parking, flat fee, then the
    minimum and maximum price. A component that never applies to a charging session
    (reservations) is left out; a fallback after restricted ones reads "otherwise"."""
    if lang not in _WORDS:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(_WORDS)}")
    w = _WORDS[lang]
    lines: list[PriceLine] = []
    for dimension in _ORDER:
        seen_restricted = False
        for element in tariff.elements:
            component = element.component(dimension)
            if component is None or element.restrictions.reservation is not None:
                continue
            cond = conditions(element.restrictions, lang)
            if not cond and seen_restricted:
                cond = w["otherwise"]
            seen_restricted = seen_restricted or bool(cond)
            unit_price = Money(_gross(component, tariff), tariff.currency)
            unit = _UNITS.get(dimension, "session")
            price = format_amount(unit_price, lang)
            price += f"/{unit}" if dimension in _UNITS else f" {w['per_session']}"
            vat = component.vat
            if tariff.tax_included is TaxIncluded.NOT_APPLICABLE or vat is None:
                vat_text = w["no_vat"]
            else:
                vat_text = w["vat"].format(rate=_trim(vat, lang))
            details = [d for d in (cond, _step_text(component, lang), vat_text) if d]
            lines.append(
                PriceLine(
                    kind=dimension.value,
                    text=f"{w[dimension.value]}: {price} ({'; '.join(details)})",
                    unit_price_incl_vat=unit_price,
                    unit=unit,
                    conditions=cond,
                    vat_percent=vat,
                )
            )
    low, high = limit_bounds(tariff)
    for kind, bound in (("MIN_PRICE", low), ("MAX_PRICE", high)):
        if bound is not None:
            lines.append(
                PriceLine(
                    kind=kind,
                    text=f"{w[kind]}: {format_amount(bound.incl_vat, lang)}",
                    unit_price_incl_vat=bound.incl_vat,
                    unit="session",
                )
            )
    return lines


def hold_amount(tariff: Tariff, configured_minor: int) -> int:
    """preauthorize_amount (2.3.0) if the tariff sets it, else the configured hold."""
    if tariff.preauthorize_amount is not None:
        return Money(tariff.preauthorize_amount, tariff.currency).to_minor()
    return configured_minor
