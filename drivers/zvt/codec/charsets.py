"""Text in ZVT messages: CP437 ("ZVT 8-bit") unless another set was negotiated (TLV 14)."""

from __future__ import annotations

from drivers.zvt.masking import scrub_pans

DEFAULT_CHARSET = "cp437"
# Terminals of some acquirers are fixed to ISO 8859; the driver setting names the codec.
KNOWN_CHARSETS = ("cp437", "iso8859-1", "iso8859-2", "iso8859-15")


def decode_text(raw: bytes, charset: str = DEFAULT_CHARSET) -> str:
    """Bytes to text; NUL padding is cut, undecodable bytes cannot occur in these 8-bit sets.
    A terminal's text is free text: any PAN-like digit run in it is masked here, before the
    text reaches a screen, a receipt, the journal or a log."""
    return scrub_pans(raw.split(b"\x00", 1)[0].decode(charset, errors="replace"))


def encode_text(text: str, charset: str = DEFAULT_CHARSET) -> bytes:
    """Text to bytes; refuses characters the terminal's set cannot show."""
    try:
        return text.encode(charset)
    except UnicodeEncodeError as exc:
        raise ValueError(f"text {text!r} has characters outside {charset}: {exc.reason}") from exc
