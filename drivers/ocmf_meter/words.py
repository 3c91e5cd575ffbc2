"""Text and bytes in 16-bit registers (high byte first), as both signing meters store them."""

from __future__ import annotations


def to_words(data: bytes, *, terminate: bool = False) -> list[int]:
    if terminate:
        data += b"\x00"
    if len(data) % 2:
        data += b"\x00"
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def to_bytes(words: list[int]) -> bytes:
    return b"".join((w & 0xFFFF).to_bytes(2, "big") for w in words)


def text_of(words: list[int]) -> str:
    """The ASCII/UTF-8 text up to the first NUL."""
    return to_bytes(words).split(b"\x00", 1)[0].decode("utf-8", errors="replace")
