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


def test_password_is_zeroed_and_an_unknown_bmp_keeps_only_its_number_and_length() -> None:
    assert redacted(commands.status_enquiry("123456")) == bytes.fromhex("050103000000")
    registration = redacted(commands.registration("987654", 978))
    assert registration[3:6] == bytes(3) and registration[6] == 0xBE
    safe = redacted(Apdu(0x04, 0x0F, bytes.fromhex("27006C0102")))
    assert safe == bytes.fromhex("040F05 27006C0000".replace(" ", ""))


def test_bytes_that_contradict_the_layout_keep_only_the_header() -> None:
    assert redacted(Apdu(0x04, 0x0F, bytes.fromhex("22F9"))) == bytes.fromhex("040F")


HOSTILE_PAN = "4761739001010010"


def test_hostile_status_information_logs_no_pan_in_any_encoding() -> None:
    from drivers.zvt_sim import hostile

    data = b"\x27\x00" + hostile.status_fields(HOSTILE_PAN) + hostile.trailer(HOSTILE_PAN)
    apdu = Apdu(0x04, 0x0F, data)
    logged = redacted(apdu).hex().upper() + str(decode_message(apdu).to_json())
    for form in (HOSTILE_PAN, HOSTILE_PAN.encode().hex().upper()):
        assert form not in logged
    shown = decode_message(apdu).to_json()
    assert {"tag": "1F10", "length": 16} in shown["tlv"]  # unknown: by tag and length only
    assert shown["pan"] == "476173******0010" and shown["card_name"] == "VISA 476173******0010"
    assert shown["unknown"] == {"bmp": "9F", "length": 24}


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0x01, 0x1E).filter(
        lambda t: t not in {0x07, 0x08, 0x09, 0x0A, 0x12, 0x14, 0x1A, 0x1B}
    )
    | st.integers(0x1F00, 0x1F7F).filter(
        lambda t: (
            t
            not in {
                0x1F07,
                0x1F0B,
                0x1F0E,
                0x1F0F,
                0x1F15,
                0x1F16,
                0x1F17,
                0x1F1F,
                0x1F2B,
                0x1F40,
                0x1F41,
                0x1F42,
                0x1F43,
                0x1F60,
                0x1F62,
                0x1F63,
                0x1F73,
            }
        )
    ),
    st.binary(min_size=4, max_size=40).filter(lambda b: b.strip(b"\x00")),
)
def test_a_tag_not_known_to_be_harmless_keeps_only_its_tag_and_length(
    tag: int, value: bytes
) -> None:
    apdu = Apdu(0x04, 0x0F, b"\x27\x00" + encode_bmp(0x06, [tlv(tag, value)]))
    safe = redacted(apdu)
    assert len(safe) == len(apdu.encode()) and safe.endswith(bytes(len(value)))
    (item,) = decode_message(apdu).to_json()["tlv"]
    assert item == {"tag": f"{tag:02X}" if tag < 0x100 else f"{tag:04X}", "length": len(value)}
