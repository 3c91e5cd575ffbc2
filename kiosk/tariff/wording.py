"""Price lines in words, in any language the station has a translation file for.

Everything is built from the line's numbers and conditions with the language's own texts
and number format (assets/i18n/<code>.json, the files the kiosk screens use): no German
inside English, no engine wording inside a translation. The kiosk UI passes its loaded
language; the CLI and the backend load the same files with :func:`load_words`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Protocol

from kiosk.money import minor_unit_exponent
from kiosk.tariff.lines import PriceLine, PriceWhen
from kiosk.tariff.now import PriceNow

I18N_DIR = Path(__file__).resolve().parents[2] / "assets" / "i18n"


class Words(Protocol):
    """What wording needs of a language (ui.i18n.Language has it too)."""

    @property
    def code(self) -> str: ...

    def text(self, key: str, **values: object) -> str: ...

    def number(self, value: Decimal, places: int) -> str: ...

    def money_value(self, value: Decimal, currency: str, places: int | None = None) -> str: ...


class NumberFormat:
    """Numbers and amounts in a language file's format (its `meta`): the one formatter of the
    kiosk's screens (ui.i18n.Language), its price wording and the receipts made from it."""

    decimal: str
    group: str
    money_pattern: str  # "{sign}{amount} {symbol}"
    symbols: dict[str, str]

    def number(self, value: Decimal, places: int) -> str:
        """`value` rounded half-even to `places`, with this language's separators."""
        rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
        whole, _, frac = f"{abs(rounded):f}".partition(".")
        groups: list[str] = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        groups.insert(0, whole)
        body = self.group.join(groups) + (self.decimal + frac if frac else "")
        return ("-" if rounded < 0 else "") + body  # never "-0.00"

    def money_value(self, value: Decimal, currency: str, places: int | None = None) -> str:
        places = minor_unit_exponent(currency) if places is None else places
        symbol = self.symbols.get(currency, currency + " ")
        amount = self.number(abs(value), places)
        sign = "-" if value < 0 else ""
        return self.money_pattern.format(sign=sign, amount=amount, symbol=symbol).strip()


@dataclass(frozen=True)
class FileWords(NumberFormat):
    """A language file's texts and number format, for wording outside the kiosk UI."""

    code: str
    decimal: str
    group: str
    money_pattern: str
    symbols: dict[str, str]
    strings: dict[str, str]

    def text(self, key: str, **values: object) -> str:
        template = self.strings.get(key)
        if template is None:
            raise KeyError(f"language {self.code!r} has no text {key!r}")
        return template.format(**values) if values else template


def languages(directory: Path = I18N_DIR) -> tuple[str, ...]:
    """The languages prices can be worded in: every translation file shipped."""
    return tuple(sorted(p.stem for p in directory.glob("*.json")))


def load_words(code: str, directory: Path = I18N_DIR) -> FileWords:
    """The language ``code``; texts it lacks come from English. ValueError names the
    languages there are when ``code`` is not one of them."""
    if code not in languages(directory):
        raise ValueError(f"language {code!r}: expected one of {', '.join(languages(directory))}")

    def read(name: str) -> dict[str, object]:
        data = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        assert isinstance(data, dict)
        return data

    base, own = read("en"), read(code)
    meta = own["meta"]
    assert isinstance(meta, dict)
    strings = {**dict(base["strings"]), **dict(own["strings"])}  # type: ignore[call-overload]
    return FileWords(
        code=code,
        decimal=str(meta["decimal"]),
        group=str(meta["group"]),
        money_pattern=str(meta["money_pattern"]),
        symbols={str(k): str(v) for k, v in dict(meta["symbols"]).items()},
        strings={str(k): str(v) for k, v in strings.items()},
    )


# ---------------------------------------------------------------------------- numbers


def unit_price(line: PriceLine, w: Words) -> str:
    """The price with the currency's decimals, or up to four when the exact price needs
    them: what is shown is what is billed."""
    exponent = line.price_incl_vat.normalize().as_tuple().exponent
    needed = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    places = max(minor_unit_exponent(line.currency), min(needed, 4))
    return w.money_value(line.price_incl_vat, line.currency, places)


def _plain(value: Decimal, w: Words) -> str:
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return w.number(value, places)


def duration(seconds: int, w: Words) -> str:
    if seconds % 3600 == 0:
        return w.text("price.hours", n=seconds // 3600)
    if seconds % 60 == 0:
        return w.text("price.minutes", n=seconds // 60)
    return f"{seconds} s"


def _days(days: tuple[int, ...], w: Words) -> str:
    names = w.text("price.days").split()
    runs: list[list[int]] = []
    for i in sorted(days):
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ", ".join(
        f"{names[r[0]]}–{names[r[-1]]}" if len(r) > 2 else ", ".join(names[i] for i in r)
        for r in runs
    )


# ---------------------------------------------------------------------------- conditions


def conditions(when: PriceWhen, w: Words) -> str:
    """A line's conditions in words ("Mon–Fri, 17:00–21:00"); "" when it always applies."""
    if when.otherwise:
        return w.text("price.cond.otherwise")
    parts: list[str] = []
    if when.days:
        parts.append(_days(when.days, w))
    if when.start_time is not None or when.end_time is not None:
        end = when.end_time or "24:00"
        parts.append(f"{when.start_time or '00:00'}–{'24:00' if end == '00:00' else end}")
    if when.start_date is not None:
        parts.append(w.text("price.cond.from_date", date=when.start_date))
    if when.end_date is not None:
        parts.append(w.text("price.cond.until_date", date=when.end_date))
    for key, value, name in (
        ("min_kwh", when.min_kwh, "kwh"),
        ("max_kwh", when.max_kwh, "kwh"),
        ("min_power", when.min_power_kw, "kw"),
        ("max_power", when.max_power_kw, "kw"),
        ("min_current", when.min_current_a, "amps"),
        ("max_current", when.max_current_a, "amps"),
    ):
        if value is not None:
            parts.append(w.text(f"price.cond.{key}", **{name: _plain(value, w)}))
    if when.min_duration_s is not None:
        parts.append(w.text("price.cond.min_duration", duration=duration(when.min_duration_s, w)))
    if when.max_duration_s is not None:
        parts.append(w.text("price.cond.max_duration", duration=duration(when.max_duration_s, w)))
    return ", ".join(parts)


def billing_step(line: PriceLine, w: Words) -> str:
    """ "billed per started minute" (time, parking), "billed per started 0.5 kWh" (energy)."""
    step = line.step_size
    if step <= 1:
        return ""
    if line.dimension == "energy":
        return w.text("price.step_energy", kwh=_plain(Decimal(step) / 1000, w))
    if line.dimension not in ("time", "parking_time"):
        return ""
    if step == 60:
        return w.text("price.step_minute")
    if step % 3600 == 0:
        return w.text("price.step_hours", hours=step // 3600)
    if step % 60 == 0:
        return w.text("price.step_minutes", minutes=step // 60)
    return w.text("price.step_seconds", seconds=step)


def vat(line: PriceLine, w: Words) -> str:
    if line.vat_percent is None:
        return w.text("price.no_vat")
    rate = line.vat_percent
    return w.text("price.vat", rate=w.number(rate, 0 if rate % 1 == 0 else 1))


# ---------------------------------------------------------------------------- lines


def line_parts(line: PriceLine, w: Words, *, with_vat: bool = False) -> tuple[str, str]:
    """The price ("€6.00 per hour parked") and its details ("only while your vehicle is
    connected and not charging; billed per started minute"), "" when there are none. VAT is
    added when asked (a screen says it once when every line has the same rate)."""
    text = w.text(f"price.dim.{line.dimension}", price=unit_price(line, w))
    details = [conditions(line.when, w)]
    if line.dimension == "parking_time":
        details.append(w.text("price.parking_rule"))
    details.append(billing_step(line, w))
    if with_vat:
        details.append(vat(line, w))
    # The language's own separator: French sets a no-break space before ";".
    separator = w.text("price.details_separator")
    return text, separator.join(d for d in details if d)


def line_text(line: PriceLine, w: Words, *, with_vat: bool = False) -> str:
    """The full line: "€6.00 per hour parked (only while your vehicle is connected and not
    charging; billed per started minute)"."""
    text, details = line_parts(line, w, with_vat=with_vat)
    return f"{text} ({details})" if details else text


def short_text(line: PriceLine, w: Words) -> str:
    """The compact form for a tile: "€0.59/kWh", "€0.49/session"."""
    if line.dimension in ("min_price", "max_price"):
        return w.text(f"price.dim.{line.dimension}", price=unit_price(line, w))
    text = w.text(f"price.short.{line.dimension}", price=unit_price(line, w))
    cond = conditions(line.when, w) if line.when.conditional else ""
    return f"{text} ({cond})" if cond else text


def now_text(now: PriceNow, w: Words) -> str:
    """The price in force, per kWh first: "€0.59/kWh + €0.49/session"."""
    shown = [line for line in now.lines if line.element >= 0]
    return " + ".join(short_text(line, w) for line in shown)


def next_text(now: PriceNow, w: Words, zone: tzinfo, time_format: str = "%H:%M") -> str:
    """The coming change: "from 17:00: €0.69/kWh" (with the weekday when not today); ""
    when nothing new applies within the horizon."""
    if now.next_at is None:
        return ""
    new = [line for line in now.next_lines if line not in now.lines and line.element >= 0]
    if not new:
        return ""
    local: datetime = now.next_at.astimezone(zone)
    price = " + ".join(short_text(line, w) for line in new)
    clock = local.strftime(time_format)
    if local.date() == now.at.astimezone(zone).date():
        return w.text("price.next", time=clock, price=price)
    day = w.text("price.days").split()[local.weekday()]
    return w.text("price.next_day", day=day, time=clock, price=price)


def alt_text(texts: tuple[tuple[str, str], ...], code: str) -> str:
    """The tariff's own ``tariff_alt_text`` in this language, "" when it has none."""
    return next((text for language, text in texts if language == code), "")
