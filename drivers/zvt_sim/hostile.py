"""A hostile terminal: the whole card number, in clear, in every field that can carry it.

Real terminals send the PAN masked and card data only where the spec puts it. This mode sends
the test PAN as ASCII and as BCD in the PAN, track and chip fields, in every text (host text,
card name, display and receipt lines, error text), in TLV tags the kiosk knows and in ones it
does not (1F10, a vendor constructed tag), and after an unknown BMP. The kiosk must still show,
store, report and log none of it (tests/e2e/test_card_data.py).
"""

from __future__ import annotations

from drivers.zvt.codec.bmp import encode_bmp
from drivers.zvt.codec.tlv import Tlv, constructed, tlv

UNKNOWN_BMP = 0x9F  # no BMP table names it: its length cannot be known, decoding stops there


def _bcd(pan: str) -> bytes:
    return bytes.fromhex(pan + "F" * (len(pan) % 2))


def text(pan: str, prefix: str = "Karte") -> str:
    return f"{prefix} {pan}"


def tlv_items(pan: str) -> list[Tlv]:
    """TLV objects for a BMP 06: known text and card-data tags, unknown ones, nested ones."""
    ascii_pan, bcd_pan = pan.encode("ascii"), _bcd(pan)
    return [
        tlv(0x1F10, ascii_pan),  # unknown tag, PAN as ASCII
        tlv(0x1F11, bcd_pan),  # unknown tag, PAN as BCD
        tlv(0x5A, bcd_pan),  # EMV PAN
        tlv(0x57, bcd_pan + b"\xd2\x51\x21\x01"),  # EMV track 2 equivalent
        tlv(0x1F14, bcd_pan),  # card identification item
        tlv(0x4C, ascii_pan),  # contactless UID
        tlv(0x1F17, text(pan, "Fehler").encode("ascii")),
        constructed(0x24, tlv(0x07, text(pan).encode("ascii"))),
        constructed(0xE4, tlv(0x1F42, ascii_pan)),  # "serial number"
        constructed(0xFF40, tlv(0x1F10, ascii_pan), tlv(0x5A, bcd_pan)),  # vendor container
    ]


def status_fields(pan: str) -> bytes:
    """BMPs to put before a 04 0F's own: the first occurrence of a BMP is the one decoded."""
    ascii_pan, bcd_pan = pan.encode("ascii"), _bcd(pan)
    return (
        encode_bmp(0x22, bcd_pan)  # the PAN field, unmasked
        + encode_bmp(0x23, bcd_pan + b"\xd2\x51\x21\x01")  # track 2
        + encode_bmp(0x24, bcd_pan)  # track 3
        + encode_bmp(0x2D, b"B" + ascii_pan + b"^TEST/CARD^2512")  # track 1
        + encode_bmp(0x0E, b"\x25\x12")  # expiry
        + encode_bmp(0xA7, bytes([0x5A, len(bcd_pan)]) + bcd_pan)  # chip data
        + encode_bmp(0x2A, ascii_pan[:15])  # VU number (15 characters)
        + encode_bmp(0x3C, text(pan))  # host text
        + encode_bmp(0x8B, text(pan, "VISA"))  # card name
        + encode_bmp(0xF1, text(pan))  # display line 1
        + encode_bmp(0xBA, bcd_pan[:5])  # AID parameter
        + encode_bmp(0x06, tlv_items(pan))
    )


def trailer(pan: str) -> bytes:
    """An unknown BMP and the PAN after it; goes last, as nothing after it can be decoded."""
    return bytes([UNKNOWN_BMP]) + pan.encode("ascii") + _bcd(pan)


def receipt_lines(pan: str, lines: list[str]) -> list[str]:
    return [*lines, text(pan, "Karte Nr."), pan]
