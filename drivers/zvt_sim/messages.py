"""The messages the simulated terminal builds (PT → ECR)."""

from __future__ import annotations

import datetime as dt

from drivers.zvt.codec.apdu import Apdu
from drivers.zvt.codec.bmp import encode_bmp
from drivers.zvt.codec.tlv import constructed, tlv
from drivers.zvt_sim.ledger import Entry


def now_bcd() -> tuple[str, str]:
    """The terminal's clock as ZVT sends it: (HHMMSS, MMDD)."""
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%H%M%S"), now.strftime("%m%d")


def status_information(entry: Entry, terminal_id: str, currency_code: int) -> Apdu:
    """An approving 04 0F with the fields a real terminal sends (masked PAN only)."""
    time_s, date_s = now_bcd()
    pan_nibbles = entry.masked_pan.replace("*", "E")
    pan_nibbles += "F" * (len(pan_nibbles) % 2)  # odd lengths are padded with F
    data = (
        bytes([0x27, 0x00])
        + encode_bmp(0x04, entry.amount_minor)
        + encode_bmp(0x49, currency_code)
        + encode_bmp(0x0B, entry.trace_no)
        + encode_bmp(0x0C, time_s)
        + encode_bmp(0x0D, date_s)
        + encode_bmp(0x22, bytes.fromhex(pan_nibbles))
        + encode_bmp(0x29, terminal_id)
        + encode_bmp(0x3B, entry.auth_code)
        + encode_bmp(0x87, entry.receipt_no)
        + encode_bmp(0x19, 0x60)
        + encode_bmp(0x8A, entry.card_type)
        + encode_bmp(0x8B, entry.card_name + "\x00")
    )
    return Apdu(0x04, 0x0F, data)


def text_block(lines: list[str]) -> Apdu:
    """A customer receipt as 06 D3: TLV 1F07 receipt type, 25 {07 line …, 09 last-line mark}."""
    items = [tlv(0x07, line.encode("cp437")) for line in lines]
    items.append(tlv(0x09, b"\xff"))  # attribute with b8 set: the last line
    return Apdu(0x06, 0xD3, encode_bmp(0x06, [tlv(0x1F07, b"\x02"), constructed(0x25, *items)]))
