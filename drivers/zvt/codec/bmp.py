"""BMP fields ("bitmaps"): a one-byte number, then a value whose layout the table below gives.

The table is the device knowledge; the code only interprets its kinds. Values decode to
int (binary, BCD numbers), str (digit strings such as dates, text, masked PAN), bytes, or a
TLV tuple (BMP 06). Card data never leaves this module unmasked: PANs are masked, track data
and similar fields decode to the marker ``OMITTED``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from drivers.zvt.codec.bcd import bcd_digits, decode_bcd, encode_bcd
from drivers.zvt.codec.charsets import DEFAULT_CHARSET, decode_text, encode_text
from drivers.zvt.codec.tlv import Tlv, decode_tlv, encode_length, encode_tlv, read_length
from drivers.zvt.errors import ZvtDecodeError
from drivers.zvt.masking import mask_pan_nibbles

OMITTED = "omitted"  # what card data (track 2/3, CVV, expiry, chip data) decodes to
RECEIPT_ANY = 0xFFFF  # receipt number FFFF: "first open pre-auth" / "none open"


class Kind(enum.Enum):
    BINARY = "binary"  # fixed size, unsigned big-endian int
    BCD = "bcd"  # fixed size packed BCD, int
    DIGITS = "digits"  # fixed size packed BCD, str keeping leading zeros (dates, TID)
    ASCII = "ascii"  # fixed size text
    BYTES = "bytes"  # fixed size opaque
    RECEIPT = "receipt"  # 2 bytes BCD, or FF FF
    LLVAR = "llvar"  # two Fx length digits, then that many bytes
    LLLVAR = "lllvar"  # three Fx length digits
    TLV = "tlv"  # BMP 06: TLV length, then data objects


class Content(enum.Enum):
    BYTES = "bytes"
    TEXT = "text"
    PAN = "pan"
    SECRET = "secret"  # noqa: S105 - never decoded: card data
    TOTALS = "totals"


@dataclass(frozen=True, slots=True)
class BmpSpec:
    name: str
    kind: Kind
    size: int = 0
    content: Content = Content.BYTES


BMPS: dict[int, BmpSpec] = {
    0x01: BmpSpec("timeout", Kind.BINARY, 1),
    0x02: BmpSpec("max_status_infos", Kind.BINARY, 1),
    0x03: BmpSpec("service_byte", Kind.BINARY, 1),
    0x04: BmpSpec("amount", Kind.BCD, 6),
    0x05: BmpSpec("pump_no", Kind.BINARY, 1),
    0x06: BmpSpec("tlv", Kind.TLV),
    0x0B: BmpSpec("trace_no", Kind.BCD, 3),
    0x0C: BmpSpec("time", Kind.DIGITS, 3),
    0x0D: BmpSpec("date", Kind.DIGITS, 2),
    0x0E: BmpSpec("expiry_date", Kind.BYTES, 2, Content.SECRET),
    0x17: BmpSpec("card_sequence_no", Kind.BCD, 2),
    0x19: BmpSpec("payment_type", Kind.BINARY, 1),
    0x22: BmpSpec("pan", Kind.LLVAR, 0, Content.PAN),
    0x23: BmpSpec("track_2", Kind.LLVAR, 0, Content.SECRET),
    0x24: BmpSpec("track_3", Kind.LLLVAR, 0, Content.SECRET),
    0x27: BmpSpec("result_code", Kind.BINARY, 1),
    0x29: BmpSpec("terminal_id", Kind.DIGITS, 4),
    0x2A: BmpSpec("vu_number", Kind.ASCII, 15),
    0x2D: BmpSpec("track_1", Kind.LLVAR, 0, Content.SECRET),
    0x2E: BmpSpec("sync_chip_data", Kind.LLLVAR, 0, Content.SECRET),
    0x37: BmpSpec("original_trace_no", Kind.BCD, 3),
    0x3A: BmpSpec("cvv", Kind.BYTES, 2, Content.SECRET),
    0x3B: BmpSpec("auth_code", Kind.ASCII, 8),
    0x3C: BmpSpec("text", Kind.LLLVAR, 0, Content.TEXT),
    0x3D: BmpSpec("password", Kind.BYTES, 3, Content.SECRET),
    0x49: BmpSpec("currency_code", Kind.BCD, 2),
    0x60: BmpSpec("totals", Kind.LLLVAR, 0, Content.TOTALS),
    0x87: BmpSpec("receipt_no", Kind.RECEIPT, 2),
    0x88: BmpSpec("turnover_no", Kind.BCD, 3),
    0x8A: BmpSpec("card_type", Kind.BINARY, 1),
    0x8B: BmpSpec("card_name", Kind.LLVAR, 0, Content.TEXT),
    0x8C: BmpSpec("card_type_network", Kind.BINARY, 1),
    0x9A: BmpSpec("geldkarte_data", Kind.LLLVAR, 0, Content.SECRET),
    0xA0: BmpSpec("result_code_as", Kind.BINARY, 1),
    0xA7: BmpSpec("chip_data", Kind.LLVAR, 0, Content.SECRET),
    0xAA: BmpSpec("date_yymmdd", Kind.DIGITS, 3),
    0xAF: BmpSpec("ef_info", Kind.LLLVAR, 0, Content.SECRET),
    0xBA: BmpSpec("aid_parameter", Kind.BYTES, 5),
    0xD2: BmpSpec("card_direction", Kind.BINARY, 1),
    0xF0: BmpSpec("display_duration", Kind.BINARY, 1),
    **{0xF0 + n: BmpSpec(f"display_line_{n}", Kind.LLVAR, 0, Content.TEXT) for n in range(1, 9)},
    0xF9: BmpSpec("beeps", Kind.BINARY, 1),
    0xFA: BmpSpec("card_reader_activation", Kind.BINARY, 1),
    0xFC: BmpSpec("dialog_control", Kind.BINARY, 1),
}

# BMP 60 after end-of-day: receipt range, then (count, total) per brand in this order.
TOTALS_BRANDS = ("girocard", "JCB", "Mastercard", "Amex", "VISA", "Diners", "others")

Value = int | str | bytes | tuple[Tlv, ...] | dict[str, object]


def _read_var_length(data: bytes, pos: int, digits: int, field: str) -> tuple[int, int]:
    raw = data[pos : pos + digits]
    if len(raw) < digits:
        raise ZvtDecodeError(f"{field}: data ends inside the {digits}-digit length")
    size = 0
    for byte in raw:
        if byte >> 4 != 0xF or byte & 0xF > 9:
            raise ZvtDecodeError(f"{field}: length byte {byte:02X} is not F0-F9")
        size = size * 10 + (byte & 0xF)
    return size, pos + digits


def decode_totals(raw: bytes) -> dict[str, object]:
    if len(raw) < 4 + 7 * len(TOTALS_BRANDS):
        raise ZvtDecodeError(f"totals (BMP 60): {len(raw)} bytes, expected 53")
    brands: list[dict[str, object]] = []
    pos = 4
    for brand in TOTALS_BRANDS:
        count = raw[pos]
        amount = decode_bcd(raw[pos + 1 : pos + 7], f"totals {brand} amount")
        brands.append({"brand": brand, "count": count, "amount": amount})
        pos += 7
    return {
        "receipt_from": decode_bcd(raw[0:2], "totals receipt_from"),
        "receipt_to": decode_bcd(raw[2:4], "totals receipt_to"),
        "brands": brands,
    }


def encode_totals(
    receipt_from: int, receipt_to: int, per_brand: dict[str, tuple[int, int]]
) -> bytes:
    out = bytearray(encode_bcd(receipt_from, 2) + encode_bcd(receipt_to, 2))
    for brand in TOTALS_BRANDS:
        count, amount = per_brand.get(brand, (0, 0))
        out += bytes([min(count, 0xFF)]) + encode_bcd(amount, 6, f"totals {brand}")
    return bytes(out)


def _decode_variable(raw: bytes, spec: BmpSpec, charset: str) -> Value:
    if spec.content is Content.TEXT:
        return decode_text(raw, charset)
    if spec.content is Content.PAN:
        return mask_pan_nibbles(raw.hex().upper())
    if spec.content is Content.SECRET:
        return OMITTED
    if spec.content is Content.TOTALS:
        return decode_totals(raw)
    return raw


def decode_value(bmp: int, data: bytes, pos: int, charset: str) -> tuple[Value, int]:
    """The value of BMP ``bmp`` starting at ``pos``; returns it and the position after it."""
    spec = BMPS[bmp]
    field = f"BMP {bmp:02X} ({spec.name})"
    if spec.kind is Kind.TLV:
        size, start = read_length(data, pos, f"{field} length")
        if start + size > len(data):
            raise ZvtDecodeError(f"{field}: length {size}, only {len(data) - start} bytes follow")
        return decode_tlv(data[start : start + size]), start + size
    if spec.kind in (Kind.LLVAR, Kind.LLLVAR):
        size, start = _read_var_length(data, pos, 2 if spec.kind is Kind.LLVAR else 3, field)
        if start + size > len(data):
            raise ZvtDecodeError(f"{field}: length {size}, only {len(data) - start} bytes follow")
        return _decode_variable(data[start : start + size], spec, charset), start + size
    raw = data[pos : pos + spec.size]
    if len(raw) < spec.size:
        raise ZvtDecodeError(f"{field}: needs {spec.size} bytes, {len(raw)} follow")
    end = pos + spec.size
    if spec.content is Content.SECRET:
        return OMITTED, end
    if spec.kind is Kind.BINARY:
        return int.from_bytes(raw, "big"), end
    if spec.kind is Kind.BCD:
        return decode_bcd(raw, field), end
    if spec.kind is Kind.DIGITS:
        return bcd_digits(raw, field), end
    if spec.kind is Kind.ASCII:
        return decode_text(raw, "latin-1").rstrip(), end
    if spec.kind is Kind.RECEIPT:
        return (RECEIPT_ANY if raw == b"\xff\xff" else decode_bcd(raw, field)), end
    return raw, end


@dataclass(frozen=True, slots=True)
class BmpList:
    fields: tuple[tuple[int, Value], ...]
    unknown: bytes = b""  # from the first BMP this table does not know, to the end

    def get(self, bmp: int) -> Value | None:
        for number, value in self.fields:
            if number == bmp:
                return value
        return None


def decode_bmps(data: bytes, pos: int = 0, charset: str = DEFAULT_CHARSET) -> BmpList:
    """BMPs in any order; an unknown BMP number stops decoding (its length is unknown)."""
    fields: list[tuple[int, Value]] = []
    while pos < len(data):
        bmp = data[pos]
        if bmp not in BMPS:
            return BmpList(tuple(fields), data[pos:])
        value, pos = decode_value(bmp, data, pos + 1, charset)
        fields.append((bmp, value))
    return BmpList(tuple(fields))


def encode_bmp(
    bmp: int, value: int | str | bytes | Iterable[Tlv], charset: str = DEFAULT_CHARSET
) -> bytes:
    """One BMP, strictly: the value must fit the table's layout exactly."""
    spec = BMPS[bmp]
    field = f"BMP {bmp:02X} ({spec.name})"
    head = bytes([bmp])
    if spec.kind is Kind.TLV:
        if isinstance(value, (int, str, bytes)):
            raise TypeError(f"{field}: needs TLV items")
        body = encode_tlv(list(value))
        return head + encode_length(len(body)) + body
    if spec.kind in (Kind.LLVAR, Kind.LLLVAR):
        if isinstance(value, str):
            raw = encode_text(value, charset)
        elif isinstance(value, bytes):
            raw = value
        else:
            raise TypeError(f"{field}: needs text or bytes")
        digits = 2 if spec.kind is Kind.LLVAR else 3
        if len(raw) >= 10**digits:
            raise ValueError(f"{field}: {len(raw)} bytes do not fit a {digits}-digit length")
        length = bytes(0xF0 | int(d) for d in str(len(raw)).rjust(digits, "0"))
        return head + length + raw
    if spec.kind is Kind.BINARY:
        if not isinstance(value, int) or not 0 <= value < 256**spec.size:
            raise ValueError(f"{field}: {value!r} is not an int of {spec.size} bytes")
        return head + value.to_bytes(spec.size, "big")
    if spec.kind is Kind.RECEIPT:
        if not isinstance(value, int):
            raise TypeError(f"{field}: needs an int")
        return head + (b"\xff\xff" if value == RECEIPT_ANY else encode_bcd(value, 2, field))
    if spec.kind in (Kind.BCD, Kind.DIGITS):
        if isinstance(value, str):
            if not value.isdigit() or len(value) != spec.size * 2:
                raise ValueError(f"{field}: {value!r} is not {spec.size * 2} digits")
            return head + bytes.fromhex(value)
        if not isinstance(value, int):
            raise TypeError(f"{field}: needs an int")
        return head + encode_bcd(value, spec.size, field)
    if isinstance(value, str):
        value = value.encode("latin-1")
    if not isinstance(value, bytes) or len(value) > spec.size:
        raise ValueError(f"{field}: needs at most {spec.size} bytes")
    return head + value.ljust(spec.size, b"\x00")
