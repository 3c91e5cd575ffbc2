"""APDU framing: control field (class, instruction), length (1 byte or FF + 2 bytes LE), data."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.zvt.errors import ZvtDecodeError

MAX_DATA = 0xFFFF
EXTENDED = 0xFF


@dataclass(frozen=True, slots=True)
class Apdu:
    cls: int
    instr: int
    data: bytes = b""

    @property
    def command(self) -> str:
        """The control field as the spec writes it: "04 0F"."""
        return f"{self.cls:02X} {self.instr:02X}"

    @property
    def control(self) -> tuple[int, int]:
        return (self.cls, self.instr)

    def encode(self) -> bytes:
        size = len(self.data)
        if size > MAX_DATA:
            raise ValueError(f"APDU data of {size} bytes exceeds {MAX_DATA}")
        # A single length byte only below 255: FF announces the extended form.
        length = (
            bytes([size]) if size < EXTENDED else bytes([EXTENDED]) + size.to_bytes(2, "little")
        )
        return bytes([self.cls, self.instr]) + length + self.data


def header_size(head: bytes) -> tuple[int, int] | None:
    """(header length, data length) once enough of the header is known, else None."""
    if len(head) < 3:
        return None
    if head[2] != EXTENDED:
        return 3, head[2]
    if len(head) < 5:
        return None
    return 5, int.from_bytes(head[3:5], "little")


def decode_apdu(raw: bytes) -> Apdu:
    """Exactly one APDU; the length field must match the bytes present."""
    sizes = header_size(raw)
    if sizes is None:
        raise ZvtDecodeError(f"APDU header: {len(raw)} bytes, a header needs 3 (or 5 with FF)")
    head, size = sizes
    if len(raw) != head + size:
        raise ZvtDecodeError(
            f"APDU length: header says {size} data bytes, {len(raw) - head} are present"
        )
    return Apdu(raw[0], raw[1], bytes(raw[head:]))


def split_apdus(raw: bytes) -> list[Apdu]:
    """Several APDUs back to back (a TCP read, a pasted log); the last one must be complete."""
    out: list[Apdu] = []
    pos = 0
    while pos < len(raw):
        sizes = header_size(raw[pos:])
        if sizes is None:
            raise ZvtDecodeError(f"APDU at byte {pos}: incomplete header")
        head, size = sizes
        end = pos + head + size
        if end > len(raw):
            raise ZvtDecodeError(
                f"APDU at byte {pos}: length says {size} data bytes, {len(raw) - pos - head} follow"
            )
        out.append(decode_apdu(raw[pos:end]))
        pos = end
    return out
