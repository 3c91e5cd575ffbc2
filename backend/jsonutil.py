"""JSON with exact decimals: numbers with a fraction are read as Decimal and written back
digit for digit, so a stored tariff snapshot prices exactly as the one the station sent."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

# A Decimal is first written as a marked string, then the marks are replaced by its digits.
_MARK = "\x00dec:"
_MARKED = re.compile(r'"\\u0000dec:(-?[0-9][0-9.]*(?:E[-+]?[0-9]+)?)"')


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as JSON")
        return _MARK + str(value)
    if isinstance(value, dict):
        return {k: _mark(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mark(v) for v in value]
    if isinstance(value, float):
        raise TypeError("float refused in stored JSON: parse numbers as Decimal")
    return value


class Serialized(str):
    """JSON text written already (a tariff snapshot checked by its cache): stored as is,
    so a JSON column does not serialize the same snapshot again."""

    __slots__ = ()


def dumps(value: Any, indent: int | None = None) -> str:
    if isinstance(value, Serialized) and indent is None:
        return str(value)
    if isinstance(value, Serialized):
        value = json.loads(value)
    return _MARKED.sub(r"\1", json.dumps(_mark(value), ensure_ascii=True, indent=indent))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def loads(text: str | bytes) -> Any:
    """Parse JSON; NaN and Infinity (which Python would accept) raise ValueError."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
