"""Reading JSON for the tariff engine: a cursor over an object that knows its JSON path.

Every accessor validates one field and, when it is wrong, raises the caller's error type with
the field's path and the reason ("elements[1].price_components[0].price: must not be
negative"). Numbers must be Decimal or int; a float is refused, never converted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import NoReturn, TypeVar

from kiosk.money import parse_decimal
from kiosk.tariff.bounds import Bound
from kiosk.tariff.model import TariffError

_E = TypeVar("_E")
ErrorFactory = Callable[[str, str], TariffError]


class Node:
    """A JSON object being read, with its path for error messages."""

    def __init__(self, value: object, path: str, error: ErrorFactory) -> None:
        self.error = error
        self.path = path
        if not isinstance(value, Mapping):
            self.fail("", f"expected an object, got {kind_of(value)}")
        self.data: Mapping[str, object] = value

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, reason: str) -> NoReturn:
        raise self.error(self.at(key) if key else self.path, reason)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, required: bool) -> object:
        value = self.data.get(key)
        if value is None and required:
            self.fail(key, "missing")
        return value

    def only(self, allowed: frozenset[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            self.fail(unknown[0], f"unknown field (expected one of: {', '.join(sorted(allowed))})")

    def string(self, key: str, required: bool = True) -> str | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected a non-empty string, got {kind_of(value)}")
        return value

    def number(self, key: str, bound: Bound, required: bool = False) -> Decimal | None:
        """A number within ``bound`` (range and decimals), checked before any arithmetic."""
        value = self.raw(key, required)
        if value is None:
            return None
        try:
            number = parse_decimal(value, self.at(key))
        except (TypeError, ValueError) as exc:
            reason = str(exc).split(": ", 1)[-1]
            self.fail(key, reason)
        problem = bound.check(number)
        if problem is not None:
            self.fail(key, problem)
        return number

    def integer(self, key: str, bound: Bound, required: bool = False) -> int | None:
        number = self.number(key, Bound(bound.maximum, places=0, unit=bound.unit), required)
        return None if number is None else int(number)  # bounded: a cheap conversion

    def enum(self, key: str, kind: type[_E], required: bool = True) -> _E | None:
        value = self.raw(key, required)
        if value is None:
            return None
        members: dict[str, _E] = {m.value: m for m in kind}  # type: ignore[attr-defined]
        expected = ", ".join(members)
        if not isinstance(value, str):  # {} or [] would not even hash
            self.fail(key, f"expected one of: {expected}; got {kind_of(value)}")
        if value not in members:
            self.fail(key, f"unknown value {_short(value)!r} (expected one of: {expected})")
        return members[value]

    def objects(self, key: str, required: bool = True) -> list[Node]:
        value = self.raw(key, required)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(key, f"expected a list, got {kind_of(value)}")
        if required and not value:
            self.fail(key, "must not be empty")
        return [Node(item, f"{self.at(key)}[{i}]", self.error) for i, item in enumerate(value)]

    def timestamp(self, key: str, required: bool = True) -> datetime | None:
        value = self.string(key, required)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(key, f"{value!r} is not an RFC 3339 date-time")
        # OCPI: timestamps are UTC; no designator means UTC.
        try:
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 lies before year 1 in UTC
            self.fail(key, f"{value!r} is outside the range of dates this kiosk can handle")


def _short(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:37]}..."


def kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}"
    )


def load_json(path: str | Path, error: ErrorFactory) -> Mapping[str, object]:
    """A JSON object from a file, numbers as Decimal; unreadable or non-JSON files, NaN and
    Infinity become ``error`` with the reason (and line and column for syntax errors)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error("", f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None

    def refuse_constant(name: str) -> NoReturn:
        raise ValueError(f"{name} is not a number")

    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise error(
            "", f"{path}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise error("", f"{path}: not valid OCPI JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise error("", f"{path}: expected a JSON object, got {kind_of(value)}")
    return value
