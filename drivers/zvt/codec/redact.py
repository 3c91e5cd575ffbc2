"""APDU bytes safe for a log: same layout, card data and password overwritten.

The log then carries hex an installer can paste into ``evkiosk zvt decode``. PAN digits beyond
the first 6 / last 4 become the spec's mask nibble ``E``; track data, chip data, expiry, CVV,
the password and secret TLV tags become zero bytes of the same length. If the bytes cannot be
walked (an unknown BMP whose length is unknown), only the header is kept.
"""

from __future__ import annotations

import contextlib

from drivers.zvt.codec.apdu import Apdu
from drivers.zvt.codec.bmp import BMPS, Content, Kind, decode_value
from drivers.zvt.codec.messages import LAYOUTS, SECRET_TAGS
from drivers.zvt.codec.tlv import read_length, read_tag
from drivers.zvt.errors import ZvtDecodeError
from drivers.zvt.masking import mask_pan


def _mask_pan_bytes(raw: bytes) -> bytes:
    nibbles = raw.hex().upper()
    masked = mask_pan(nibbles).replace("*", "E")
    masked += nibbles[len(masked) :]  # F padding stays
    return bytes.fromhex(masked[: len(nibbles)])


def _redact_tlv(data: bytearray, start: int, end: int, depth: int = 0) -> None:
    pos = start
    while pos < end and depth < 8:
        tag, pos = read_tag(bytes(data[:end]), pos)
        size, pos = read_length(bytes(data[:end]), pos)
        if tag in SECRET_TAGS:
            data[pos : pos + size] = bytes(size)
        elif (tag >> (8 * ((tag.bit_length() - 1) // 8))) & 0x20:
            # a vendor's primitive tag with the constructed bit set has nothing nested
            with contextlib.suppress(ZvtDecodeError):
                _redact_tlv(data, pos, pos + size, depth + 1)
        pos += size


def redacted(apdu: Apdu) -> bytes:
    """``apdu.encode()`` with card data and password overwritten (or just the header)."""
    data = bytearray(apdu.data)
    pos = 0
    try:
        for name, size, kind in LAYOUTS.get(apdu.control, ()):
            if name.endswith("?") and len(data) < pos + size:
                break
            if kind == "password":
                data[pos : pos + size] = bytes(size)
            pos += size
        if apdu.control in ((0x06, 0xD1), (0x06, 0x0F)):
            return Apdu(apdu.cls, apdu.instr, bytes(data)).encode()  # text / status only
        while pos < len(data):
            spec = BMPS.get(data[pos])
            if spec is None:
                raise ZvtDecodeError("unknown BMP")
            _, end = decode_value(data[pos], bytes(data), pos + 1, "latin-1")
            head = {Kind.LLVAR: 2, Kind.LLLVAR: 3}.get(spec.kind, 0)
            start = pos + 1 + head
            if spec.kind is Kind.TLV:
                _, start = read_length(bytes(data), pos + 1)
                _redact_tlv(data, start, end)
            elif spec.content is Content.SECRET:
                data[start:end] = bytes(end - start)
            elif spec.content is Content.PAN:
                data[start:end] = _mask_pan_bytes(bytes(data[start:end]))
            pos = end
    except ZvtDecodeError:
        return Apdu(apdu.cls, apdu.instr).encode()[:2]
    return Apdu(apdu.cls, apdu.instr, bytes(data)).encode()
