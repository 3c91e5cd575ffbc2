"""JSON with exact decimals: numbers with a fraction are read as Decimal and written back
digit for digit, so a stored tariff snapshot prices exactly as the one the station sent."""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any

_string = json.encoder.encode_basestring_ascii  # the C function json.dumps uses

# A Decimal is first written as a marked string, then the marks are replaced by its digits.
# The mark holds a random token drawn once per process: a string in the data (which can hold
# any character, NUL included) cannot forge it, as the data never sees it.
_TOKEN = secrets.token_hex(8)
_MARK = f"\x00{_TOKEN}:"
_MARKED_START = f'"\\u0000{_TOKEN}:'  # how json.dumps writes the start of a marked Decimal
_MARKED = re.compile(r'"\\u0000' + _TOKEN + r':(-?[0-9][0-9.]*(?:E[-+]?[0-9]+)?)"')


def _mark(value: Any) -> Any:
    kind = type(value)
    if kind is dict:  # the common types first, by exact type: this runs for every value
        return {k: _mark(v) for k, v in value.items()}
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if isinstance(value, Decimal):
        return marked(value)
    if isinstance(value, dict):
        return {k: _mark(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mark(v) for v in value]
    if isinstance(value, float):
        raise TypeError("float refused in stored JSON: parse numbers as Decimal")
    return value


def marked(value: Decimal) -> str:
    """A finite Decimal as the marked string `unmark` replaces by its digits: for a C JSON
    encoder's `default`, which writes the rest of a document without a walk in Python."""
    if not value.is_finite():
        raise ValueError(f"{value} cannot be written as JSON")
    return _MARK + str(value)


def unmark(text: str) -> str:
    """JSON text (ensure_ascii) with every marked Decimal replaced by its digits."""
    return _MARKED.sub(r"\1", text) if _MARKED_START in text else text


class Serialized(str):
    """JSON text written already (a tariff snapshot checked by its cache): stored as is,
    so a JSON column does not serialize the same snapshot again."""

    __slots__ = ()


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON text as `json.dumps(value, ensure_ascii=True, indent=indent)` writes it, with
    every Decimal written digit for digit; a float is refused (TypeError)."""
    if isinstance(value, Serialized) and indent is None:
        return str(value)
    if indent is None:
        return _write(value)
    if isinstance(value, Serialized):
        value = json.loads(value)
    return unmark(json.dumps(_mark(value), ensure_ascii=True, indent=indent))


def _write(value: Any) -> str:
    """`dumps` without indent, written straight: no marked copy of the value to walk again
    and no marks to replace (the hot path of every JSON column and the ingest's documents)."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is dict:
        if not value:
            return "{}"
        items = [
            f"{_string(k) if type(k) is str else _key(k)}: {_write(v)}" for k, v in value.items()
        ]
        return "{" + ", ".join(items) + "}"
    if kind is Decimal:
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as JSON")
        return str(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is list:
        return "[" + ", ".join([_write(v) for v in value]) + "]"
    if isinstance(value, Decimal):
        return _write(Decimal(value))
    if isinstance(value, float):
        raise TypeError("float refused in stored JSON: parse numbers as Decimal")
    if isinstance(value, Serialized):
        return str(value)  # written already, as at the top
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, dict):
        return _write(dict(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(_write, value)) + "]"
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: Any) -> str:
    """A dict key as json.dumps writes it (a str, or an int, bool or None as text)."""
    if type(key) is str:
        return _string(key)
    if key is True or key is False or key is None:
        return _string(json.dumps(key))
    if isinstance(key, str):
        return _string(key)
    if isinstance(key, int):
        return _string(int.__repr__(key))
    if isinstance(key, float):
        raise TypeError("float refused in stored JSON: parse numbers as Decimal")
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_refuse_constant)


def loads(text: str | bytes) -> Any:
    """Parse JSON; NaN and Infinity (which Python would accept) raise ValueError."""
    if isinstance(text, bytes | bytearray):  # as json.loads reads them (UTF-8, -16, -32)
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    return _DECODER.decode(text)
