"""JSON for the machine's frozen dataclasses, so the journal can store and restore them.

Encoding follows the field types: enums by value, datetimes as ISO 8601 with offset, Decimal
as a string (never a float), tuples and frozensets as lists. Decoding reads the same type hints
back, so a stored session comes back as the exact value that was written.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


class CodecError(ValueError):
    """A stored value does not fit the type it should restore to."""


def to_jsonable(value: object) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise CodecError(f"naive datetime {value.isoformat()} cannot be journaled")
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list | frozenset | set):
        items = [to_jsonable(v) for v in value]
        return sorted(items) if isinstance(value, frozenset | set) else items
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise CodecError(f"cannot journal a {type(value).__name__}")


def dumps(value: object) -> str:
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"))


def loads(cls: type[T], text: str) -> T:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CodecError(f"not JSON: {exc}") from None
    return typing.cast(T, from_jsonable(cls, data))


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_jsonable(tp: Any, data: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return from_jsonable(arg, data)
            except (CodecError, TypeError, ValueError, KeyError) as exc:
                errors.append(str(exc))
        raise CodecError(f"{data!r} fits none of {tp}: {'; '.join(errors)}")
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_jsonable(args[0], v) for v in _list(data))
        return tuple(from_jsonable(a, v) for a, v in zip(args, _list(data), strict=True))
    if origin is frozenset:
        (arg,) = typing.get_args(tp)
        return frozenset(from_jsonable(arg, v) for v in _list(data))
    if origin is dict:
        key_t, val_t = typing.get_args(tp)
        return {from_jsonable(key_t, k): from_jsonable(val_t, v) for k, v in dict(data).items()}
    if tp is Any or tp is object:
        return data
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            if not isinstance(data, dict):
                raise CodecError(f"{tp.__name__}: expected an object, got {data!r}")
            hints = _hints(tp)
            kwargs = {
                f.name: from_jsonable(hints[f.name], data[f.name])
                for f in dataclasses.fields(tp)
                if f.name in data
            }
            return tp(**kwargs)
        if issubclass(tp, enum.Enum):
            return tp(data)
        if tp is datetime:
            parsed = datetime.fromisoformat(str(data))
            if parsed.tzinfo is None:
                raise CodecError(f"datetime {data!r} has no offset")
            return parsed
        if tp is timedelta:
            return timedelta(seconds=float(data))
        if tp is Decimal:
            return Decimal(str(data))
        if tp is bool:
            if not isinstance(data, bool):
                raise CodecError(f"expected true/false, got {data!r}")
            return data
        if tp is int:
            if isinstance(data, bool) or not isinstance(data, int):
                raise CodecError(f"expected an integer, got {data!r}")
            return data
        if tp is float:
            if isinstance(data, bool) or not isinstance(data, int | float):
                raise CodecError(f"expected a number, got {data!r}")
            return float(data)
        if tp is str:
            if not isinstance(data, str):
                raise CodecError(f"expected a string, got {data!r}")
            return data
    raise CodecError(f"cannot restore type {tp!r}")


def _list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise CodecError(f"expected a list, got {data!r}")
    return data
