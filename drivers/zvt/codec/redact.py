"""APDU bytes safe for a log: same layout and length, only known-harmless values kept.

The log then carries hex an installer can paste into ``evkiosk zvt decode``. Deny by default
(``loggable``): numbers and codes stay; texts keep their words with PAN-like digit runs masked;
PAN digits beyond the first 6 / last 4 become the spec's mask nibble ``E``; the password and
every other value (track data, chip data, unknown BMPs and TLV tags) become zero bytes of the
same length, so only the tag and length remain. From an unknown BMP on (its length is unknown)
every byte is zeroed.
"""

from __future__ import annotations

from drivers.zvt.codec.apdu import Apdu
from drivers.zvt.codec.bmp import BMPS, Kind, decode_value
from drivers.zvt.codec.loggable import (
    CONTAINER_TAGS,
    PAN_BMP,
    TEXT_BMPS,
    TEXT_TAGS,
    TLV_BMP,
    VALUE_BMPS,
    VALUE_TAGS,
)
from drivers.zvt.codec.messages import LAYOUTS, completion_prefix
from drivers.zvt.codec.tlv import read_length, read_tag
from drivers.zvt.errors import ZvtDecodeError
from drivers.zvt.masking import mask_pan, scrub_pans_bytes


def _mask_pan_bytes(raw: bytes) -> bytes:
    nibbles = raw.hex().upper()
    masked = mask_pan(nibbles).replace("*", "E")
    masked += nibbles[len(masked) :]  # F padding stays
    return bytes.fromhex(masked[: len(nibbles)])


def _zero(data: bytearray, start: int, end: int) -> None:
    data[start:end] = bytes(end - start)


def _scrub(data: bytearray, start: int, end: int) -> None:
    data[start:end] = scrub_pans_bytes(bytes(data[start:end]))


def _redact_tlv(data: bytearray, start: int, end: int, depth: int = 0) -> None:
    """Walk the data objects in ``data[start:end]``; anything not walkable is zeroed."""
    pos = start
    try:
        while pos < end:
            tag, value_at = read_tag(bytes(data[:end]), pos)
            size, value_at = read_length(bytes(data[:end]), value_at)
            value_end = value_at + size
            if value_end > end:
                raise ZvtDecodeError(f"TLV tag {tag:X} runs past its container")
            if tag in CONTAINER_TAGS and depth < 8:
                _redact_tlv(data, value_at, value_end, depth + 1)
            elif tag in TEXT_TAGS:
                _scrub(data, value_at, value_end)
            elif tag not in VALUE_TAGS:
                _zero(data, value_at, value_end)
            pos = value_end
    except ZvtDecodeError:
        _zero(data, pos, end)


def _redact_bmps(data: bytearray, pos: int) -> None:
    while pos < len(data):
        bmp = data[pos]
        spec = BMPS.get(bmp)
        if spec is None:
            _zero(data, pos + 1, len(data))
            return
        _, end = decode_value(bmp, bytes(data), pos + 1, "latin-1")
        head = {Kind.LLVAR: 2, Kind.LLLVAR: 3}.get(spec.kind, 0)
        start = pos + 1 + head
        if bmp == TLV_BMP:
            _, start = read_length(bytes(data), pos + 1)
            _redact_tlv(data, start, end)
        elif bmp == PAN_BMP:
            data[start:end] = _mask_pan_bytes(bytes(data[start:end]))
        elif bmp in TEXT_BMPS:
            _scrub(data, start, end)
        elif bmp not in VALUE_BMPS:
            _zero(data, start, end)
        pos = end


def _positional(apdu: Apdu, data: bytearray) -> int:
    pos = 0
    for name, size, kind in LAYOUTS.get(apdu.control, ()):
        if name.endswith("?") and len(data) < pos + size:
            break
        if kind == "password":
            _zero(data, pos, min(pos + size, len(data)))
        pos += size
    return pos


def redacted(apdu: Apdu) -> bytes:
    """``apdu.encode()`` with every value not known to be harmless overwritten (or just the
    header, if the bytes contradict the layout)."""
    data = bytearray(apdu.data)
    try:
        if apdu.control == (0x06, 0x0F):
            pos = completion_prefix(apdu, {}, "latin-1")
            if data[:1] and data[0] >> 4 == 0xF:  # software version text, LLLVAR
                _scrub(data, 3, 3 + int("".join(str(b & 0xF) for b in data[:3])))
        else:
            pos = _positional(apdu, data)
        if apdu.control == (0x06, 0xD1):
            _scrub(data, pos, len(data))  # print line text
        elif apdu.control == (0x06, 0xD3) and data[pos : pos + 1] != b"\x06":
            _redact_tlv(data, pos, len(data))  # some PTs omit the BMP 06 byte
        else:
            _redact_bmps(data, pos)
    except ZvtDecodeError:
        return Apdu(apdu.cls, apdu.instr).encode()[:2]
    return Apdu(apdu.cls, apdu.instr, bytes(data)).encode()
