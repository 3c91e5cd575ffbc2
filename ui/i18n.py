"""Languages as data: one JSON file per language in assets/i18n, no code per language.

A file has `meta` (native name, number separators, money pattern, date and time formats) and
`strings` (key -> text with `{placeholders}`). Formatting of energy, power, durations and dates
lives here too, driven by `meta` (numbers and money by the kiosk's one formatter,
kiosk.tariff.wording.NumberFormat), so a new language file is all a new language needs.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from kiosk.money import minor_unit_exponent
from kiosk.snapshot import Amount
from kiosk.tariff.wording import NumberFormat

I18N_DIR = Path(__file__).resolve().parent.parent / "assets" / "i18n"
FALLBACK = "en"
_META_KEYS = ("code", "name", "decimal", "group", "money_pattern", "symbols", "date", "time")


class LanguageFileError(ValueError):
    """A language file is broken; the message names the file and the key."""


@dataclass(frozen=True)
class Language(NumberFormat):
    code: str
    name: str  # in the language itself: "Deutsch"
    decimal: str
    group: str
    money_pattern: str  # "{sign}{amount} {symbol}"
    symbols: dict[str, str]
    date: str  # strftime pattern
    time: str
    strings: dict[str, str]

    # ---------------------------------------------------------------- numbers
    # number() and money_value(): the kiosk's one formatter (NumberFormat)

    def money(self, amount: Amount) -> str:
        exponent = minor_unit_exponent(amount.currency)
        value = Decimal(amount.minor).scaleb(-exponent)
        return self.money_value(value, amount.currency, exponent)

    def energy_kwh(self, wh: int) -> str:
        return self.number(Decimal(wh) / 1000, 2) + " kWh"

    def power_kw(self, watts: float | None) -> str:
        if watts is None:
            return "–"
        # A display value only: power is never money, and is rounded for the eye.
        return self.number(Decimal(str(round(watts))) / 1000, 1) + " kW"

    @staticmethod
    def duration(seconds: int) -> str:
        seconds = max(0, seconds)
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"

    def date_time(self, moment: datetime, zone: tzinfo) -> str:
        local = moment.astimezone(zone)
        return f"{local.strftime(self.date)} {local.strftime(self.time)}"

    def clock_time(self, moment: datetime, zone: tzinfo) -> str:
        return moment.astimezone(zone).strftime(self.time)

    # ---------------------------------------------------------------- texts

    def pick(self, texts: Iterable[tuple[str, str]], default: str) -> str:
        """The station's own wording for this language (a connector label configured per
        language), else `default`."""
        return dict(texts).get(self.code, default)

    def text(self, key: str, **values: object) -> str:
        template = self.strings.get(key)
        if template is None:
            raise KeyError(f"language {self.code!r} has no text {key!r}")
        return template.format(**values) if values else template


def _language(path: Path, data: Any) -> Language:
    if not isinstance(data, dict):
        raise LanguageFileError(f"{path.name}: expected an object with 'meta' and 'strings'")
    meta, strings = data.get("meta"), data.get("strings")
    if not isinstance(meta, dict):
        raise LanguageFileError(f"{path.name}: 'meta' is missing or not an object")
    if not isinstance(strings, dict):
        raise LanguageFileError(f"{path.name}: 'strings' is missing or not an object")
    for key in _META_KEYS:
        if key not in meta:
            raise LanguageFileError(f"{path.name}: meta.{key} is missing")
        expected = dict if key == "symbols" else str
        if not isinstance(meta[key], expected):
            kind = "an object" if expected is dict else "a text"
            raise LanguageFileError(f"{path.name}: meta.{key} must be {kind}")
    try:
        sample = meta["money_pattern"].format(sign="-", amount="1", symbol="€")
    except (KeyError, IndexError, ValueError) as exc:
        raise LanguageFileError(
            f"{path.name}: meta.money_pattern may use only {{sign}}, {{amount}}, {{symbol}}"
        ) from exc
    if "1" not in sample:
        raise LanguageFileError(f"{path.name}: meta.money_pattern has no {{amount}}")
    for currency, symbol in meta["symbols"].items():
        if not isinstance(symbol, str):
            raise LanguageFileError(f"{path.name}: meta.symbols.{currency} must be a text")
    for key, value in strings.items():
        if not isinstance(value, str):
            raise LanguageFileError(f"{path.name}: strings.{key} is not a text")
    if meta["code"] != path.stem:
        raise LanguageFileError(
            f"{path.name}: meta.code is {meta['code']!r}, the file name says {path.stem!r}"
        )
    return Language(
        code=str(meta["code"]),
        name=str(meta["name"]),
        decimal=str(meta["decimal"]),
        group=str(meta["group"]),
        money_pattern=str(meta["money_pattern"]),
        symbols={str(k): str(v) for k, v in dict(meta["symbols"]).items()},
        date=str(meta["date"]),
        time=str(meta["time"]),
        strings=dict(strings),
    )


def load_language(path: Path) -> Language:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise LanguageFileError(f"{path.name}: not valid JSON ({exc})") from exc
    return _language(path, data)


def load_languages(directory: Path = I18N_DIR) -> dict[str, Language]:
    """Every language file in `directory`; missing keys fall back to English."""
    found = {p.stem: load_language(p) for p in sorted(directory.glob("*.json"))}
    if FALLBACK not in found:
        raise LanguageFileError(f"{directory}: {FALLBACK}.json is required (the fallback)")
    base = found[FALLBACK].strings
    for code, lang in found.items():
        for key, text in lang.strings.items():
            if key not in base:
                continue
            wanted = _fields(base[key], f"{FALLBACK}.json", key)
            if _fields(text, f"{code}.json", key) != wanted:
                raise LanguageFileError(
                    f"{code}.json: strings.{key} must use the placeholders of {FALLBACK}.json "
                    f"({', '.join(sorted(wanted)) or 'none'})"
                )
        if code != FALLBACK:
            found[code] = Language(**{**lang.__dict__, "strings": {**base, **lang.strings}})
    return found


def _fields(template: str, source: str, key: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}
    except ValueError as exc:
        raise LanguageFileError(f"{source}: strings.{key} has a broken {{placeholder}}") from exc


def ordered_codes(available: dict[str, Language], preferred: tuple[str, ...]) -> list[str]:
    """The station's configured languages first (in its order), then every other file."""
    first = [c for c in preferred if c in available]
    return first + sorted(c for c in available if c not in first)
