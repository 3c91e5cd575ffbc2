"""Building blocks for tariff tests: fixtures on disk, sessions as spans, expected prices."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.money import Money
from kiosk.tariff import ChargingPeriod, Price, Tariff, load_tariff, parse_tariff

DATA = Path(__file__).parent
UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")


def fixture(name: str) -> Tariff:
    return load_tariff(DATA / f"{name}.json")


def tariff_from(text: str) -> Tariff:
    return parse_tariff(json.loads(text, parse_float=Decimal))


def eur(excl: str, incl: str) -> Price:
    return Price(Money(Decimal(excl), "EUR"), Money(Decimal(incl), "EUR"))


@dataclass(frozen=True)
class Span:
    """A stretch of a session: minutes long, kWh delivered, charging or parked."""

    minutes: int
    kwh: str = "0"
    parked: bool = False
    power_kw: str | None = None
    current_a: str | None = None


def charge(minutes: int, kwh: str = "0", **kw: str) -> Span:
    return Span(minutes, kwh, False, kw.get("power_kw"), kw.get("current_a"))


def park(minutes: int) -> Span:
    return Span(minutes, parked=True)


def session(start: datetime, *spans: Span) -> tuple[list[ChargingPeriod], datetime]:
    """OCPI charging periods for consecutive spans, and the session end."""
    periods = []
    at = start
    for span in spans:
        hours = Decimal(span.minutes) / 60
        periods.append(
            ChargingPeriod(
                start=at,
                energy_kwh=Decimal(span.kwh),
                time_h=Decimal(0) if span.parked else hours,
                parking_h=hours if span.parked else Decimal(0),
                max_power_kw=None if span.power_kw is None else Decimal(span.power_kw),
                max_current_a=None if span.current_a is None else Decimal(span.current_a),
            )
        )
        at += timedelta(minutes=span.minutes)
    return periods, at
