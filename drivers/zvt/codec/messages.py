"""Decode an APDU into a named message: its fields by name, texts, TLV and what was not known.

Each command's layout is data (``LAYOUTS``): the positional fields before the BMP list. The
decoder is tolerant: unknown BMPs and TLV tags end up in ``unknown`` / ``tlv``, not in errors.
Only bytes that contradict the layout (a length running past the end, a bad BCD digit) raise
ZvtDecodeError, and its message names the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drivers.zvt.codec.apdu import Apdu
from drivers.zvt.codec.bcd import decode_bcd
from drivers.zvt.codec.bmp import BMPS, OMITTED, BmpList, Value, decode_bmps
from drivers.zvt.codec.charsets import DEFAULT_CHARSET, decode_text
from drivers.zvt.codec.loggable import (
    CONTAINER_TAGS,
    PAN_BMP,
    TEXT_BMPS,
    TEXT_TAGS,
    VALUE_BMPS,
    VALUE_TAGS,
)
from drivers.zvt.codec.tlv import Tlv, decode_tlv
from drivers.zvt.errors import ZvtDecodeError

NAMES: dict[tuple[int, int], str] = {
    (0x04, 0x01): "Set Date/Time in ECR",
    (0x04, 0x0F): "Status-Information",
    (0x04, 0xFF): "Intermediate Status",
    (0x05, 0x01): "Status Enquiry",
    (0x06, 0x00): "Registration",
    (0x06, 0x01): "Authorisation",
    (0x06, 0x02): "Log-Off",
    (0x06, 0x0F): "Completion",
    (0x06, 0x10): "Send Turnover Totals",
    (0x06, 0x1E): "Abort",
    (0x06, 0x20): "Repeat Receipt",
    (0x06, 0x22): "Pre-Authorisation",
    (0x06, 0x23): "Partial-Reversal of Pre-Authorisation",
    (0x06, 0x24): "Book Total",
    (0x06, 0x25): "Pre-Authorisation Reversal",
    (0x06, 0x30): "Reversal",
    (0x06, 0x31): "Refund",
    (0x06, 0x50): "End-of-Day",
    (0x06, 0x70): "Diagnosis",
    (0x06, 0x93): "Initialisation",
    (0x06, 0xB0): "Abort (ECR)",
    (0x06, 0xC0): "Read Card",
    (0x06, 0xD1): "Print Line",
    (0x06, 0xD3): "Print Text-Block",
    (0x06, 0xE0): "Display Text",
    (0x80, 0x00): "Acknowledgement",
}

# Positional fields before the BMPs: (name, size, kind) with kind "password" | "int" | "bcd".
# A trailing "?" on the name marks it optional (present only if bytes remain).
LAYOUTS: dict[tuple[int, int], tuple[tuple[str, int, str], ...]] = {
    (0x06, 0x00): (
        ("password", 3, "password"),
        ("config_byte", 1, "int"),
        ("currency_code?", 2, "bcd"),
    ),
    (0x05, 0x01): (("password?", 3, "password"),),
    (0x06, 0x10): (("password?", 3, "password"),),
    (0x06, 0x20): (("password?", 3, "password"),),
    (0x06, 0x30): (("password?", 3, "password"),),
    (0x06, 0x31): (("password?", 3, "password"),),
    (0x06, 0x50): (("password?", 3, "password"),),
    (0x06, 0x93): (("password?", 3, "password"),),
    (0x06, 0x1E): (("result_code", 1, "int"),),
    (0x04, 0xFF): (("intermediate_status", 1, "int"), ("timeout_minutes?", 1, "bcd")),
    (0x06, 0xD1): (("attribute", 1, "int"),),
}

# BMP fields by the name ``Message.fields`` uses, to look up what of them may be shown.
_BMP_OF_FIELD = {spec.name: number for number, spec in BMPS.items()}


@dataclass(frozen=True, slots=True)
class Message:
    apdu: Apdu
    name: str
    fields: dict[str, Value] = field(default_factory=dict)
    tlv: tuple[Tlv, ...] = ()
    texts: tuple[str, ...] = ()
    unknown: bytes = b""

    @property
    def command(self) -> str:
        return self.apdu.command

    def int_field(self, name: str) -> int | None:
        value = self.fields.get(name)
        return value if isinstance(value, int) else None

    def str_field(self, name: str) -> str | None:
        value = self.fields.get(name)
        return value if isinstance(value, str) else None

    def find_tlv(self, tag: int) -> Tlv | None:
        return _find(self.tlv, tag)

    def to_json(self) -> dict[str, Any]:
        """The message for a log or a person: deny by default (``loggable``). Known-harmless
        fields by value, texts with PAN-like digits masked, everything else by name (BMPs)
        or by tag and length (TLV, unknown BMPs) only."""
        out: dict[str, Any] = {"command": self.command, "name": self.name}
        for name, value in self.fields.items():
            bmp = _BMP_OF_FIELD.get(name)
            if name == "tlv":
                continue
            if bmp is not None and bmp not in VALUE_BMPS | TEXT_BMPS | {PAN_BMP}:
                out[name] = OMITTED
            elif isinstance(value, bytes):
                out[name] = value.hex().upper()
            else:
                out[name] = value
        if self.texts:
            out["text"] = "\n".join(self.texts)
        if self.tlv:
            out["tlv"] = [_tlv_json(item) for item in self.tlv]
        if self.unknown:
            out["unknown"] = {"bmp": f"{self.unknown[0]:02X}", "length": len(self.unknown) - 1}
        return out


def _find(items: tuple[Tlv, ...], tag: int) -> Tlv | None:
    for item in items:
        if item.tag == tag:
            return item
        found = _find(item.children or (), tag)
        if found is not None:
            return found
    return None


def _tlv_json(item: Tlv) -> dict[str, Any]:
    out: dict[str, Any] = {"tag": item.tag_hex}
    if item.tag in CONTAINER_TAGS and item.children is not None:
        out["items"] = [_tlv_json(child) for child in item.children]
    elif item.tag in TEXT_TAGS:
        out["text"] = decode_text(item.value)
    elif item.tag in VALUE_TAGS:
        out["value"] = item.value.hex().upper()
    else:
        out["length"] = len(item.value)
    return out


def _tlv_texts(items: tuple[Tlv, ...], charset: str) -> list[str]:
    lines: list[str] = []
    for item in items:
        if item.children is not None:
            lines += _tlv_texts(item.children, charset)
        elif item.tag == 0x07:
            lines.append(decode_text(item.value, charset))
    return lines


def _positional(apdu: Apdu, fields: dict[str, Value]) -> int:
    pos = 0
    for raw_name, size, kind in LAYOUTS.get(apdu.control, ()):
        name = raw_name.rstrip("?")
        if raw_name.endswith("?") and len(apdu.data) < pos + size:
            break
        chunk = apdu.data[pos : pos + size]
        if len(chunk) < size:
            raise _short(apdu, name, size, len(chunk))
        if kind == "password":
            fields[name] = OMITTED
        elif kind == "bcd":
            fields[name] = decode_bcd(chunk, name)
        else:
            fields[name] = int.from_bytes(chunk, "big")
        pos += size
    return pos


def _short(apdu: Apdu, name: str, size: int, got: int) -> ZvtDecodeError:
    return ZvtDecodeError(f"{apdu.command} {name}: needs {size} bytes, {got} present")


def completion_prefix(apdu: Apdu, fields: dict[str, Value], charset: str) -> int:
    """06 0F has two shapes: BMPs (after Registration, payments) or, after a Status Enquiry,
    ``[SW version LLLVAR] <terminal status> [BMPs]``. Take BMPs if they parse cleanly."""
    data = apdu.data
    if not data:
        return 0
    if data[0] >> 4 != 0xF:
        try:
            if not decode_bmps(data, 0, charset).unknown:
                return 0
        except ZvtDecodeError:
            pass
    pos = 0
    if data[0] >> 4 == 0xF:
        digits = data[:3]
        if len(digits) < 3 or any(b >> 4 != 0xF or b & 0xF > 9 for b in digits):
            raise ZvtDecodeError(f"{apdu.command} software_version: length is not 3 Fx digits")
        size = int("".join(str(b & 0xF) for b in digits))
        if 3 + size > len(data):
            raise _short(apdu, "software_version", size, len(data) - 3)
        fields["software_version"] = decode_text(data[3 : 3 + size], charset)
        pos = 3 + size
    if pos < len(data):
        fields["terminal_status"] = data[pos]
        pos += 1
    return pos


def decode_message(apdu: Apdu, charset: str = DEFAULT_CHARSET) -> Message:
    """Name and decode one APDU; tolerant of unknown BMPs and TLV tags."""
    fields: dict[str, Value] = {}
    name = NAMES.get(apdu.control, "")
    if apdu.cls in (0x80, 0x84):
        name = (
            "Acknowledgement"
            if apdu.control in ((0x80, 0x00), (0x84, 0x00))
            else "Negative response"
        )
        if apdu.cls == 0x84:
            fields["error_code"] = apdu.instr
    if apdu.control == (0x06, 0x0F):
        pos = completion_prefix(apdu, fields, charset)
    else:
        pos = _positional(apdu, fields)
    texts: list[str] = []
    tlv_items: tuple[Tlv, ...] = ()
    unknown = b""
    if apdu.control == (0x06, 0xD1):
        texts.append(decode_text(apdu.data[pos:], charset))
    elif apdu.control == (0x06, 0xD3) and apdu.data[:1] != b"\x06":
        tlv_items = decode_tlv(apdu.data[pos:])  # some PTs omit the BMP 06 byte
    else:
        bmps: BmpList = decode_bmps(apdu.data, pos, charset)
        unknown = bmps.unknown
        for number, value in bmps.fields:
            field_name = BMPS[number].name
            if number == 0x06 and isinstance(value, tuple):
                tlv_items = tlv_items + value
            elif field_name == "text" and isinstance(value, str):
                texts.append(value)
            else:
                fields.setdefault(field_name, value)
    texts += _tlv_texts(tlv_items, charset)
    unique = tuple(dict.fromkeys(texts))  # 3C and TLV 24 often repeat the same host text
    return Message(apdu, name, fields, tlv_items, unique, unknown)
