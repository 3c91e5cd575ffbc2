"""Log hex keeps its layout but loses the card data: decoding it gives the same masked fields."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drivers.zvt import commands
from drivers.zvt.codec.apdu import Apdu, decode_apdu
from drivers.zvt.codec.bmp import encode_bmp
from drivers.zvt.codec.messages import decode_message
from drivers.zvt.codec.redact import redacted
from drivers.zvt.codec.tlv import constructed, tlv
from drivers.zvt.masking import mask_pan

PANS = st.text("0123456789", min_size=13, max_size=19)


@settings(max_examples=150, deadline=None)
@given(PANS, st.integers(0, 10**8), st.binary(max_size=20))
def test_redacted_result_decodes_to_the_same_masked_fields(
    pan: str, amount: int, extra: bytes
) -> None:
    nibbles = pan + "F" * (len(pan) % 2)
    data = (
        bytes([0x27, 0x00])
        + encode_bmp(0x04, amount)
        + encode_bmp(0x22, bytes.fromhex(nibbles))
        + encode_bmp(0x23, bytes.fromhex(nibbles + "D2512101"))
        + encode_bmp(0x0E, bytes.fromhex("2512"))
        + encode_bmp(0x06, [constructed(0x60, tlv(0x5A, bytes.fromhex(nibbles)), tlv(0x07, extra))])
    )
    apdu = Apdu(0x04, 0x0F, data)
    safe = redacted(apdu)
    assert len(safe) == len(apdu.encode())
    assert decode_message(decode_apdu(safe)).to_json() == decode_message(apdu).to_json()
    masked = mask_pan(pan).replace("*", "E")
    assert bytes.fromhex(masked + "F" * (len(masked) % 2)) in safe  # BMP 22, masked in place
    assume(pan.strip("0"))  # an all-zero PAN would match the zeroed track bytes
    assert bytes.fromhex(nibbles) not in safe  # neither in 22, 23 nor TLV 5A


def test_password_is_zeroed_and_unknown_layout_keeps_only_the_header() -> None:
    assert redacted(commands.status_enquiry("123456")) == bytes.fromhex("050103000000")
    registration = redacted(commands.registration("987654", 978))
    assert registration[3:6] == bytes(3) and registration[6] == 0xBE
    assert redacted(Apdu(0x04, 0x0F, bytes.fromhex("27006C0102"))) == bytes.fromhex("040F")
