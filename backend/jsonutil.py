"""JSON with exact decimals: numbers with a fraction are read as Decimal and written back
digit for digit, so a stored tariff snapshot prices exactly as the one the station sent."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

# A Decimal is first written as a marked string, then the marks are replaced by its digits.
_MARK = "\x00dec:"
_MARKED_START = '"\\u0000dec:'  # how json.dumps writes the start of a marked Decimal
_MARKED = re.compile(r'"\\u0000dec:(-?[0-9][0-9.]*(?:E[-+]?[0-9]+)?)"')


def _mark(value: Any) -> Any:
    kind = type(value)
    if kind is dict:  # the common types first, by exact type: this runs for every value
        return {k: _mark(v) for k, v in value.items()}
    if kind is str or kind is int or kind is bool or value is None:
        return value
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


def _number(found: re.Match[str]) -> str:
    return found.group(1)


class Serialized(str):
    """JSON text written already (a tariff snapshot checked by its cache): stored as is,
    so a JSON column does not serialize the same snapshot again."""

    __slots__ = ()


def dumps(value: Any, indent: int | None = None) -> str:
    if isinstance(value, Serialized) and indent is None:
        return str(value)
    if isinstance(value, Serialized):
        value = json.loads(value)
    text = json.dumps(_mark(value), ensure_ascii=True, indent=indent)
    return _MARKED.sub(_number, text) if _MARKED_START in text else text


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_refuse_constant)


def loads(text: str | bytes) -> Any:
    """Parse JSON; NaN and Infinity (which Python would accept) raise ValueError."""
    if isinstance(text, bytes | bytearray):  # as json.loads reads them (UTF-8, -16, -32)
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    return _DECODER.decode(text)
