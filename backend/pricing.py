"""The core tariff engine, as the backend uses it: validate a tariff, show its price, and
recompute a reported session's cost from the tariff snapshot and the metered values."""

from __future__ import annotations

import hashlib
import pickle
import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from backend import jsonutil
from backend.phone_format import PhoneWords
from backend.schemas import MAX_AMOUNT
from kiosk.tariff import (
    ChargingPeriod,
    Tariff,
    TariffError,
    hold_amount,
    parse_cdr,
    parse_tariff,
    price_lines,
    price_now,
    price_session,
    wording,
)

__all__ = [
    "Computed",
    "PriceShown",
    "TariffError",
    "check_tariff",
    "display_lines",
    "recompute",
]


@dataclass(frozen=True)
class Computed:
    total_minor: int
    breakdown: dict[str, Any]  # OCPI CDR totals, Decimal amounts
    tariff_json: jsonutil.Serialized  # the snapshot's exact JSON, as stored with the session


@dataclass(frozen=True)
class Snapshot:
    tariff: Tariff
    text: jsonutil.Serialized  # its exact JSON (Decimal numbers digit for digit)


def check_tariff(obj: dict[str, Any], currency: str) -> Tariff:
    """The parsed tariff, or TariffError naming the field (also for a currency mismatch)."""
    return checked_snapshot(obj, currency).tariff


def checked_snapshot(obj: dict[str, Any], currency: str) -> Snapshot:
    """The parsed tariff with its JSON text, or TariffError naming the field.

    A station sends the same snapshot with every session until its tariff changes: a parsed
    snapshot is kept by its pickle (exact for JSON values: str, int, Decimal with its digits,
    bool apart from int, None, lists and dicts in order; and cheaper than writing the JSON or
    its repr), so it is validated and written once, not per report. A large pickle is kept by
    its hash instead, which bounds the cache's memory. Pickle's references to an object met
    twice can only make two equal snapshots miss each other.
    """
    key = pickle.dumps(obj, protocol=5)
    if len(key) > _KEPT_WHOLE:  # hashing costs more than the lookup for a usual snapshot
        key = b"#" + hashlib.sha256(key).digest()  # a pickle starts with 0x80
    snapshot = _SNAPSHOTS.get(key)
    if snapshot is None:
        snapshot = _parse_snapshot(obj)
        with _SNAPSHOTS_LOCK:
            _SNAPSHOTS[key] = snapshot
            if len(_SNAPSHOTS) > _SNAPSHOTS_KEPT:
                del _SNAPSHOTS[next(iter(_SNAPSHOTS))]  # the oldest
    if snapshot.tariff.currency != currency:
        raise TariffError(
            "currency", f"tariff is in {snapshot.tariff.currency}, the request in {currency}"
        )
    return snapshot


_SNAPSHOTS: dict[bytes, Snapshot] = {}  # by pickle or its hash, oldest first
_SNAPSHOTS_LOCK = threading.Lock()
_SNAPSHOTS_KEPT = 512
_KEPT_WHOLE = 4096  # bytes of pickle kept as the key itself (a usual snapshot: about 500)


def _parse_snapshot(obj: dict[str, Any]) -> Snapshot:
    text = jsonutil.dumps(obj)
    try:
        # Parsed from the text, so the engine sees exactly what is stored.
        return Snapshot(parse_tariff(jsonutil.loads(text)), jsonutil.Serialized(text))
    except OverflowError:
        # A date-time like 0001-01-01T00:00+00:01 cannot be converted to UTC.
        raise TariffError("", "a date-time in the tariff is out of range") from None


@dataclass(frozen=True)
class PriceShown:
    """The prices on the pay page, in the page's language, at one instant."""

    lines: list[tuple[str, bool]]  # (the line in words, in force now)
    coming: str  # the next change, "from 17:00: €0.69/kWh", or ""
    alt_text: str  # the tariff's own words in this language, or ""
    vat_note: str  # "incl. 19 % VAT" when every line has that rate (else each line says it)


def display_lines(obj: dict[str, Any], lang: str, at: datetime, time_zone: str) -> PriceShown:
    """The tariff's price components in AFIR order, worded from their numbers in ``lang``,
    each marked whether it is in force at ``at`` in the station's time zone."""
    tariff = parse_tariff(obj)
    words = PhoneWords(wording.load_words(lang if lang in wording.languages() else "en"))
    lines = price_lines(tariff)
    zone = ZoneInfo(time_zone)
    now = price_now(tariff, lines, zone, at)
    rates = {line.vat_percent for line in lines}
    dimensions = [line.dimension for line in lines]
    shown: list[tuple[str, bool]] = []
    for line in lines:
        text = wording.line_text(line, words, with_vat=len(rates) > 1)
        applies = line in now.lines
        if applies and dimensions.count(line.dimension) > 1:
            text = words.text("price.now", price=text)
        shown.append((text, applies))
    return PriceShown(
        lines=shown,
        coming=wording.next_text(now, words, zone),
        alt_text=wording.alt_text(tariff.alt_text, words.code),
        vat_note=wording.vat(lines[0], words) if len(rates) == 1 and lines else "",
    )


def suggested_hold(obj: dict[str, Any], configured_minor: int) -> int:
    return hold_amount(parse_tariff(obj), configured_minor)


def _meter_period(start: datetime, end: datetime, energy_wh: int) -> ChargingPeriod:
    # One period from start to end: all the metered energy, all the time as charging time.
    seconds = Decimal(int((end - start).total_seconds()))
    return ChargingPeriod(start=start, energy_kwh=Decimal(energy_wh) / 1000, time_h=seconds / 3600)


def recompute(
    tariff_obj: dict[str, Any],
    *,
    currency: str,
    start: datetime,
    end: datetime,
    meter_start_wh: int,
    meter_end_wh: int,
    charging_periods: list[dict[str, Any]] | None,
    time_zone: str,
) -> Computed:
    """Cost of a session per the engine. Raises TariffError (CdrError) naming a bad field."""
    snapshot = checked_snapshot(tariff_obj, currency)
    tariff = snapshot.tariff
    if end < start:
        raise TariffError("end_date_time", "is before start_date_time", source="session")
    if meter_end_wh < meter_start_wh:
        raise TariffError("meter_end_wh", "is below meter_start_wh", source="session")
    energy_wh = meter_end_wh - meter_start_wh
    if charging_periods:
        try:
            cdr = parse_cdr(
                {
                    "start_date_time": start.isoformat(),
                    "end_date_time": end.isoformat(),
                    "currency": currency,
                    "charging_periods": charging_periods,
                }
            )
        except OverflowError:
            # A period time like 0001-01-01T00:00+00:01 cannot be converted to UTC.
            raise TariffError(
                "charging_periods", "a start_date_time is out of range", source="cdr"
            ) from None
        periods = list(cdr.charging_periods)
        # The periods price the session; a different meter delta is kept for reconciliation.
        period_wh = sum((p.energy_kwh for p in periods), Decimal(0)) * 1000
    else:
        periods = [_meter_period(start, end, energy_wh)]
        period_wh = Decimal(energy_wh)
    breakdown = price_session(tariff, periods, end, ZoneInfo(time_zone))
    total_minor = breakdown.total_minor()
    if total_minor > MAX_AMOUNT:  # bounded inputs, but their product may not be
        field = "charging_periods" if charging_periods else "meter_end_wh"
        raise TariffError(
            field,
            f"the session costs {breakdown.total_cost.incl_vat.format()}, above the largest "
            f"amount this backend books ({MAX_AMOUNT} minor units)",
            source="session",
        )
    ocpi = dict(breakdown.to_ocpi())
    ocpi["meter_energy_wh"] = energy_wh
    ocpi["period_energy_wh"] = period_wh
    if energy_wh == 0 and period_wh == 0:
        # The kiosk's rule (kiosk.session.common.final_amount): no energy, no charge, not even
        # a session fee. A hold released before charging started is never captured here.
        return Computed(0, {**ocpi, "no_energy_no_charge": True}, snapshot.text)
    return Computed(total_minor, ocpi, snapshot.text)
