"""The OCMF text record: `OCMF|{payload JSON}|{signature JSON}` (OCMF 1.4, SAFE e.V.).

The payload is kept as the exact text that was signed: parsing never re-serialises it, and
reading values (`RV`) keep their textual form next to their `Decimal` value, because a verifier
hashes the bytes as they are and a `0.0100` must not become `0.01`. Readings may omit fields that
equal the previous reading's (the spec allows it); `Reading` carries the inherited values.

Every defect is an `OcmfError` naming the field (`payload.RD[1].RV: ...`), never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_RECORD_CHARS = 65_536  # a record of a whole session is a few kB; refuse absurd input early
MAX_READINGS = 1_000
MAX_TARIFF_TEXT = 250  # OCMF: TT is at most 250 characters

READING_REASONS = frozenset("BCXELRAPST")  # TX: begin, charging, exception, end, ...
METER_STATUS = frozenset("NGTDRMXIOSEF")  # ST: G is "OK"
ERROR_FLAGS = frozenset("Et")  # EF: energy, time
TIME_SYNC = frozenset("UISR")  # unknown, informative, synchronised, relative
UNITS = {"kWh": Decimal(1000), "Wh": Decimal(1)}  # energy units, as Wh per unit
OTHER_UNITS = frozenset({"mOhm", "uOhm"})

_PAGINATION = re.compile(r"([TF])([0-9]{1,10})")
_TIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3}[+-][0-9]{4}) ([A-Z])"
)


def _instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S,%f%z")


class OcmfError(ValueError):
    """A record that is not valid OCMF; the message starts with the field at fault."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class _Number(str):
    """A JSON number kept as the text it was written as (RV must keep its textual form)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Reading:
    time: str  # "2026-12-07T10:00:00,000+0100", as written
    time_sync: str  # U, I, S or R
    reason: str  # TX
    value: Decimal
    value_text: str  # RV exactly as signed
    unit: str
    obis: str | None
    current_type: str | None  # RT: AC or DC
    status: str  # ST
    error_flags: str  # EF, "" when none

    @property
    def at(self) -> datetime:
        """When the meter took the reading, by its own clock (see `time_sync` for its worth)."""
        return _instant(self.time)

    @property
    def wh(self) -> Decimal:
        """The reading in Wh (exact); only for energy units."""
        factor = UNITS.get(self.unit)
        if factor is None:
            raise OcmfError("RU", f"{self.unit!r} is not an energy unit")
        return self.value * factor


@dataclass(frozen=True, slots=True)
class OcmfRecord:
    text: str  # the whole record as received
    payload_text: str  # the signed bytes (UTF-8 of this text)
    payload: Mapping[str, Any]
    signature: Mapping[str, Any]
    pagination: tuple[str, int]  # ("T", 17): transaction context, or "F" fiscal
    readings: tuple[Reading, ...]

    @property
    def meter_serial(self) -> str:
        return str(self.payload.get("MS", ""))

    @property
    def tariff_text(self) -> str | None:
        tt = self.payload.get("TT")
        return None if tt is None else str(tt)

    @property
    def charge_point(self) -> str | None:
        ci = self.payload.get("CI")
        return None if ci is None else str(ci)

    @property
    def signature_data(self) -> str:
        return str(self.signature["SD"])


def _text(section: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> Any:
    value = section.get(key)
    if value is None:
        if required:
            raise OcmfError(f"{where}.{key}", "is missing")
        return None
    if not isinstance(value, str) or isinstance(value, _Number):
        raise OcmfError(f"{where}.{key}", f"must be a string, got {type(value).__name__}")
    if "\x00" in value:
        raise OcmfError(f"{where}.{key}", "must not contain a NUL byte")
    return value


def _load_json(text: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text, parse_float=_Number, parse_int=_Number, parse_constant=_constant)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise OcmfError(where, f"is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise OcmfError(where, f"must be a JSON object, got {type(data).__name__}")
    return data


def _constant(name: str) -> Any:
    raise OcmfError("payload", f"{name} is not a number OCMF allows")


def _pagination(payload: Mapping[str, Any]) -> tuple[str, int]:
    pg = _text(payload, "PG", "payload", required=True)
    match = _PAGINATION.fullmatch(pg)
    if match is None:
        raise OcmfError("payload.PG", f"{pg!r} must be T<n> or F<n> (n: 1 to 10 digits)")
    return match.group(1), int(match.group(2))


def _readings(payload: Mapping[str, Any]) -> tuple[Reading, ...]:
    raw = payload.get("RD", [])
    if not isinstance(raw, list):
        raise OcmfError("payload.RD", "must be a list of readings")
    if len(raw) > MAX_READINGS:
        raise OcmfError("payload.RD", f"has {len(raw)} readings, at most {MAX_READINGS} allowed")
    readings: list[Reading] = []
    inherited: dict[str, Any] = {}
    for i, item in enumerate(raw):
        where = f"payload.RD[{i}]"
        if not isinstance(item, dict):
            raise OcmfError(where, "must be an object")
        merged = {**inherited, **item}
        inherited = merged
        readings.append(_reading(merged, where))
    return tuple(readings)


def _reading(fields: Mapping[str, Any], where: str) -> Reading:
    tm = _text(fields, "TM", where, required=True)
    match = _TIME.fullmatch(tm)
    if match is None:
        raise OcmfError(f"{where}.TM", f"{tm!r} must look like 2026-12-07T10:00:00,000+0100 S")
    try:
        _instant(match.group(1))
    except ValueError:
        raise OcmfError(f"{where}.TM", f"{tm!r} is not a date and time") from None
    sync = match.group(2)
    if sync not in TIME_SYNC:
        raise OcmfError(f"{where}.TM", f"time status {sync!r} must be one of U, I, S, R")
    reason = _text(fields, "TX", where) or ""
    if reason and reason not in READING_REASONS:
        raise OcmfError(f"{where}.TX", f"{reason!r} is not an OCMF reading reason")
    rv = fields.get("RV")
    if not isinstance(rv, _Number):
        raise OcmfError(f"{where}.RV", "must be a number")
    try:
        value = Decimal(rv)
    except InvalidOperation:  # pragma: no cover - json only hands over numeric text
        raise OcmfError(f"{where}.RV", f"{rv!r} is not a number") from None
    if not value.is_finite() or abs(value.adjusted()) > 12:
        raise OcmfError(f"{where}.RV", f"{rv} is out of range")
    unit = _text(fields, "RU", where, required=True)
    if unit not in UNITS and unit not in OTHER_UNITS:
        raise OcmfError(f"{where}.RU", f"{unit!r} must be one of kWh, Wh, mOhm, uOhm")
    status = _text(fields, "ST", where, required=True)
    if status not in METER_STATUS:
        raise OcmfError(f"{where}.ST", f"{status!r} is not an OCMF meter status")
    flags = _text(fields, "EF", where) or ""
    if any(f not in ERROR_FLAGS for f in flags):
        raise OcmfError(f"{where}.EF", f"{flags!r} may only contain E and t")
    return Reading(
        time=match.group(1),
        time_sync=sync,
        reason=reason,
        value=value,
        value_text=str(rv),
        unit=unit,
        obis=_text(fields, "RI", where),
        current_type=_text(fields, "RT", where),
        status=status,
        error_flags=flags,
    )


def _check_payload(payload: Mapping[str, Any]) -> None:
    _text(payload, "FV", "payload")
    for key in ("GI", "GS", "GV", "MV", "MM", "MS", "MF", "IT", "ID", "CT", "CI", "CF"):
        _text(payload, key, "payload")
    tt = _text(payload, "TT", "payload")
    if tt is not None and len(tt) > MAX_TARIFF_TEXT:
        raise OcmfError("payload.TT", f"is {len(tt)} characters, at most 250 allowed")
    if not isinstance(payload.get("IS"), bool):  # mandatory in OCMF
        raise OcmfError("payload.IS", "must be true or false (user assignment status)")


def _check_signature(signature: Mapping[str, Any]) -> None:
    _text(signature, "SA", "signature")
    se = _text(signature, "SE", "signature")
    if se is not None and se not in ("hex", "base64"):
        raise OcmfError("signature.SE", f"{se!r} must be hex or base64")
    sm = _text(signature, "SM", "signature")
    if sm is not None and sm != "application/x-der":
        raise OcmfError("signature.SM", f"{sm!r}: only application/x-der is defined")
    sd = _text(signature, "SD", "signature", required=True)
    if not sd:
        raise OcmfError("signature.SD", "is empty")


def parse_ocmf(text: object) -> OcmfRecord:
    """Parse one record; raises `OcmfError` naming the field on anything that is not OCMF."""
    if not isinstance(text, str):
        raise OcmfError("record", f"must be text, got {type(text).__name__}")
    if len(text) > MAX_RECORD_CHARS:
        raise OcmfError("record", f"is {len(text)} characters, at most {MAX_RECORD_CHARS}")
    text = text.strip("\r\n\x00 ")  # meters pad register areas with NULs
    parts = text.split("|")
    if len(parts) != 3 or parts[0] != "OCMF":
        raise OcmfError("record", "must be OCMF|{payload}|{signature} (no pipe inside a section)")
    payload = _load_json(parts[1], "payload")
    signature = _load_json(parts[2], "signature")
    _check_payload(payload)
    _check_signature(signature)
    return OcmfRecord(
        text=text,
        payload_text=parts[1],
        payload=payload,
        signature=signature,
        pagination=_pagination(payload),
        readings=_readings(payload),
    )


# --------------------------------------------------------------------------- building


def _encode(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise OcmfError("payload", f"{value} is not a number OCMF allows")
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if "|" in value:
            raise OcmfError("payload", f"{value!r}: the pipe character is forbidden in OCMF")
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_encode(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise OcmfError("payload", f"cannot encode {type(value).__name__}")


def build_payload(fields: Mapping[str, object]) -> str:
    """Compact JSON of the payload, keys in the given order, `Decimal` RV written as it is."""
    return _encode(fields)


def assemble(payload_text: str, signature: Mapping[str, object]) -> str:
    """The record text from the signed payload text and the signature section."""
    return f"OCMF|{payload_text}|{_encode(signature)}"
