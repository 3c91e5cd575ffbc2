"""The TLV container (BMP 06): BER-like tags of one or more bytes, lengths 1/81/82 form.

Decoding is tolerant: a constructed tag whose content does not parse as TLV is kept as bytes
(Feig sends FFxx tags as primitive although their constructed bit is set).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.zvt.errors import ZvtDecodeError


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes = b""
    children: tuple[Tlv, ...] | None = None  # set when the tag is constructed and parsed

    @property
    def tag_hex(self) -> str:
        return f"{self.tag:X}".rjust(2 * _tag_size(self.tag), "0")

    def find(self, tag: int) -> Tlv | None:
        for child in self.children or ():
            if child.tag == tag:
                return child
        return None


def _tag_size(tag: int) -> int:
    return max(1, (tag.bit_length() + 7) // 8)


def _is_constructed(tag: int) -> bool:
    first = tag >> (8 * (_tag_size(tag) - 1))
    return bool(first & 0x20)


def read_tag(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise ZvtDecodeError(f"TLV tag at byte {pos}: data ends")
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:  # more tag bytes follow, each with b8 = "another follows"
        while True:
            if pos >= len(data):
                raise ZvtDecodeError(f"TLV tag {tag:X}: data ends inside a multi-byte tag")
            byte = data[pos]
            tag = (tag << 8) | byte
            pos += 1
            if not byte & 0x80:
                break
            if tag > 0xFFFFFFFF:
                raise ZvtDecodeError(f"TLV tag {tag:X}: longer than 4 bytes")
    return tag, pos


def read_length(data: bytes, pos: int, field: str = "TLV length") -> tuple[int, int]:
    if pos >= len(data):
        raise ZvtDecodeError(f"{field} at byte {pos}: data ends")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    if first in (0x81, 0x82):
        count = first - 0x80
        if pos + 1 + count > len(data):
            raise ZvtDecodeError(f"{field} at byte {pos}: data ends inside the length")
        return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), pos + 1 + count
    raise ZvtDecodeError(f"{field} at byte {pos}: first byte {first:02X} is not 00-7F, 81 or 82")


def encode_length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    if size <= 0xFF:
        return bytes([0x81, size])
    if size <= 0xFFFF:
        return bytes([0x82]) + size.to_bytes(2, "big")
    raise ValueError(f"TLV length {size} exceeds 65535")


def decode_tlv(data: bytes, depth: int = 0) -> tuple[Tlv, ...]:
    """All data objects in ``data``; raises ZvtDecodeError naming the tag that is broken."""
    if depth > 8:
        raise ZvtDecodeError("TLV nesting deeper than 8 levels")
    items: list[Tlv] = []
    pos = 0
    while pos < len(data):
        tag, pos = read_tag(data, pos)
        size, pos = read_length(data, pos, f"TLV length of tag {tag:X}")
        if pos + size > len(data):
            raise ZvtDecodeError(
                f"TLV tag {tag:X}: length {size}, only {len(data) - pos} bytes follow"
            )
        value = data[pos : pos + size]
        pos += size
        children: tuple[Tlv, ...] | None = None
        if _is_constructed(tag):
            try:
                children = decode_tlv(value, depth + 1)
            except ZvtDecodeError:
                children = None  # vendor primitive with the constructed bit set: keep bytes
        items.append(Tlv(tag, value, children))
    return tuple(items)


def encode_tlv(items: tuple[Tlv, ...] | list[Tlv]) -> bytes:
    out = bytearray()
    for item in items:
        value = encode_tlv(item.children) if item.children is not None else item.value
        out += item.tag.to_bytes(_tag_size(item.tag), "big") + encode_length(len(value)) + value
    return bytes(out)


def tlv(tag: int, value: bytes = b"") -> Tlv:
    return Tlv(tag, value)


def constructed(tag: int, *children: Tlv) -> Tlv:
    return Tlv(tag, encode_tlv(children), tuple(children))
