"""JSON out with exact numbers: Decimal is written as a JSON number, digit for digit.

The standard encoder would need a float for that, and a float is where cents get lost.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal


def _number(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} cannot be written as a JSON number")
    return format(value, "f")


def dumps(value: object, indent: int | None = 2, _level: int = 0) -> str:
    """Serialise dicts, lists, str, int, bool, None and Decimal; anything else is an error."""
    pad = "" if indent is None else "\n" + " " * (indent * (_level + 1))
    end = "" if indent is None else "\n" + " " * (indent * _level)
    sep = ", " if indent is None else ","
    if isinstance(value, Decimal):
        return _number(value)
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = (
            f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {dumps(v, indent, _level + 1)}"
            for k, v in value.items()
        )
        return "{" + sep.join(items) + end + "}"
    if isinstance(value, Sequence):
        if not value:
            return "[]"
        return "[" + sep.join(f"{pad}{dumps(v, indent, _level + 1)}" for v in value) + end + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON (floats are refused)")
