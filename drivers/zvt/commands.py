"""The requests an EV kiosk sends (ECR → PT), built strictly from typed values."""

from __future__ import annotations

from drivers.zvt.codec.apdu import Apdu
from drivers.zvt.codec.bcd import encode_bcd
from drivers.zvt.codec.bmp import RECEIPT_ANY, encode_bmp
from drivers.zvt.codec.tlv import Tlv, constructed, tlv

# Registration config byte: ECR receipts via 06 D3 (b7), no admin on PT (b5), no amount
# input on PT (b4), intermediate status wanted (b3), ECR prints payment/admin receipts (b1, b2).
CONFIG_BYTE = 0xBE
PAYMENT_TYPE_PT_DECIDES = 0x40
REFERENCE_ID = "EV"  # 1F62: the two-letter name of the reference we put into 1F63
# Messages the kiosk handles; sent as TLV 26 so the PT sends text blocks (06 D3).
HANDLED_COMMANDS = (0x06D3, 0x06D1, 0x04FF, 0x040F)
# 06 20 service byte: bit0 resend the last Status-Information, bit1 do not print.
REPEAT_LAST_STATUS_NO_PRINT = 0x03


def _password(password: str) -> bytes:
    if len(password) != 6 or not password.isdigit():
        raise ValueError("password: must be 6 digits")
    return bytes.fromhex(password)


def registration(password: str, currency_code: int, config_byte: int = CONFIG_BYTE) -> Apdu:
    listed = constructed(0x26, *(tlv(0x0A, code.to_bytes(2, "big")) for code in HANDLED_COMMANDS))
    data = (
        _password(password)
        + bytes([config_byte])
        + encode_bcd(currency_code, 2, "currency code")
        + encode_bmp(0x06, [listed])
    )
    return Apdu(0x06, 0x00, data)


def status_enquiry(password: str) -> Apdu:
    return Apdu(0x05, 0x01, _password(password))


def log_off() -> Apdu:
    return Apdu(0x06, 0x02)


def _reference_tlv(reference: str) -> list[Tlv]:
    if (
        not reference
        or len(reference) > 32
        or not reference.isascii()
        or not reference.isprintable()
    ):
        raise ValueError("reference: 1-32 printable ASCII characters")
    return [constructed(0xE9, tlv(0x1F62, REFERENCE_ID.encode()), tlv(0x1F63, reference.encode()))]


def _amount(amount_minor: int, field: str = "amount") -> bytes:
    if not isinstance(amount_minor, int) or amount_minor < 0:
        raise ValueError(f"{field}: {amount_minor!r} is not a non-negative int of minor units")
    return encode_bmp(0x04, amount_minor)


def preauthorisation(amount_minor: int, currency_code: int, reference: str) -> Apdu:
    if amount_minor <= 0:
        raise ValueError("amount: a pre-authorisation needs a positive amount")
    data = (
        encode_bmp(0x19, PAYMENT_TYPE_PT_DECIDES)
        + encode_bmp(0x49, currency_code)
        + _amount(amount_minor)
        + encode_bmp(0x06, _reference_tlv(reference))
    )
    return Apdu(0x06, 0x22, data)


def partial_reversal(receipt_no: int, unused_minor: int, currency_code: int) -> Apdu:
    """06 23: release ``unused_minor`` of the hold, book the rest."""
    data = encode_bmp(0x87, receipt_no) + _amount(unused_minor, "unused amount")
    return Apdu(0x06, 0x23, data + encode_bmp(0x49, currency_code))


def book_total(receipt_no: int, used_minor: int, currency_code: int) -> Apdu:
    """06 24: book ``used_minor`` of the hold, release the rest."""
    data = encode_bmp(0x87, receipt_no) + _amount(used_minor, "used amount")
    return Apdu(0x06, 0x24, data + encode_bmp(0x49, currency_code))


def preauth_reversal(receipt_no: int, currency_code: int) -> Apdu:
    """06 25: release the whole hold."""
    return Apdu(0x06, 0x25, encode_bmp(0x87, receipt_no) + encode_bmp(0x49, currency_code))


def open_preauth_enquiry() -> Apdu:
    return Apdu(0x06, 0x23, encode_bmp(0x87, RECEIPT_ANY))


def refund(password: str, amount_minor: int, currency_code: int) -> Apdu:
    """Refund (Gutschrift) to the card presented: `<pw> 04 <amount> 49 <currency>`. Whether the
    acquirer allows it is the terminal's answer (research/zvt.md §3.1: acquirer-dependent)."""
    if amount_minor == 0:
        raise ValueError("amount: a refund needs an amount above 0")
    return Apdu(
        0x06,
        0x31,
        _password(password) + _amount(amount_minor) + encode_bmp(0x49, currency_code),
    )


def abort() -> Apdu:
    return Apdu(0x06, 0xB0)


def repeat_receipt(password: str) -> Apdu:
    return Apdu(0x06, 0x20, _password(password) + encode_bmp(0x03, REPEAT_LAST_STATUS_NO_PRINT))


def end_of_day(password: str) -> Apdu:
    return Apdu(0x06, 0x50, _password(password))
