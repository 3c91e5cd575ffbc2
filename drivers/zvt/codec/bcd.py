"""Packed BCD as ZVT uses it: two decimal digits per byte, high nibble first."""

from __future__ import annotations

from drivers.zvt.errors import ZvtDecodeError


def encode_bcd(value: int, size: int, field: str = "value") -> bytes:
    """``value`` as ``size`` bytes of packed BCD; refuses negatives and values that do not fit."""
    if value < 0:
        raise ValueError(f"{field}: {value} is negative; BCD holds only digits")
    digits = str(value).rjust(size * 2, "0")
    if len(digits) > size * 2:
        raise ValueError(f"{field}: {value} has more than {size * 2} digits")
    return bytes.fromhex(digits)


def decode_bcd(raw: bytes, field: str = "value") -> int:
    """Packed BCD to int; a nibble above 9 is an error that names the field."""
    digits = raw.hex()
    if not digits.isdigit():
        raise ZvtDecodeError(f"{field}: {raw.hex(' ').upper()} is not BCD (nibble above 9)")
    return int(digits) if digits else 0


def bcd_digits(raw: bytes, field: str = "value") -> str:
    """Packed BCD as a digit string, leading zeros kept (dates, times, terminal ids)."""
    digits = raw.hex()
    if not digits.isdigit():
        raise ZvtDecodeError(f"{field}: {raw.hex(' ').upper()} is not BCD (nibble above 9)")
    return digits
