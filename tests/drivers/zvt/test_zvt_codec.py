"""Codec against the public vectors (research/zvt.md §7.2-§7.7) and round-trips."""

from __future__ import annotations

import pytest

from drivers.zvt import commands
from drivers.zvt.codec.apdu import Apdu, decode_apdu, split_apdus
from drivers.zvt.codec.bmp import OMITTED, decode_bmps, decode_totals, encode_bmp, encode_totals
from drivers.zvt.codec.messages import decode_message
from drivers.zvt.codec.tlv import Tlv, constructed, decode_tlv, encode_tlv, tlv
from drivers.zvt.errors import ZvtDecodeError
from drivers.zvt.masking import mask_pan


def msg(hex_text: str) -> dict[str, object]:
    return decode_message(decode_apdu(bytes.fromhex(hex_text.replace(" ", "")))).to_json()


# ---------------------------------------------------------------- §7.2 ecrterm
@pytest.mark.parametrize(
    ("hex_text", "command", "fields"),
    [
        ("060200", "06 02", {}),
        ("069303999999", "06 93", {"password": OMITTED}),
        ("06000498765441", "06 00", {"config_byte": 0x41}),
        ("060006987654410978", "06 00", {"config_byte": 0x41, "currency_code": 978}),
        ("060008777777a00978030a", "06 00", {"config_byte": 0xA0, "service_byte": 0x0A}),
        ("06230387FFFF", "06 23", {"receipt_no": 0xFFFF}),
        ("060f07F0F0F3626c6100", "06 0F", {"software_version": "bla", "terminal_status": 0}),
        ("060f0106", "06 0F", {"terminal_status": 6}),
        ("060f03060600", "06 0F", {"terminal_status": 6}),
        ("06 1E 04 B8 87 FF FF", "06 1E", {"result_code": 0xB8, "receipt_no": 0xFFFF}),
        ("06 1E 04 B8 87 01 23", "06 1E", {"result_code": 0xB8, "receipt_no": 123}),
    ],
)
def test_ecrterm_vectors(hex_text: str, command: str, fields: dict[str, object]) -> None:
    out = msg(hex_text)
    assert out["command"] == command
    for key, value in fields.items():
        assert out[key] == value


def test_ecrterm_nested_constructed_tags() -> None:
    def parsed(hex_text: str) -> tuple[Tlv, ...]:
        return decode_message(decode_apdu(bytes.fromhex(hex_text))).tlv

    (f2,) = parsed("0601080606f204c1021223")
    assert f2.tag == 0xF2 and f2.children == (Tlv(0xC1, bytes.fromhex("1223")),)
    eod = parsed("06501712345606123f210c60065501aa0501bb1002abba110177")
    assert [item.tag for item in eod] == [0x3F21, 0x11]
    inner = eod[0].children or ()
    assert inner[0].tag == 0x60 and (inner[0].children or ())[1] == Tlv(0x05, b"\xbb")
    assert inner[1] == Tlv(0x10, bytes.fromhex("ABBA"))
    # Shown to a person or a log, tags not known to be harmless give their length only.
    assert msg("0601080606f204c1021223")["tlv"] == [{"tag": "F2", "length": 4}]


def test_ecrterm_status_information_masks_the_card_number() -> None:
    out = msg(
        "04 0F 37 27 00 04 00 00 00 00 40 00 49 09 78 0C 09 38 48 0D 04 25 22 F1 F1 59 66 66 66"
        " 66 D2 00 21 22 01 00 17 00 01 87 01 75 0B 61 39 95 19 40 29 60 09 99 14 0E 05 12 8A 02"
    )
    assert out["result_code"] == 0 and out["amount"] == 4000 and out["currency_code"] == 978
    assert out["time"] == "093848" and out["date"] == "0425"
    assert out["receipt_no"] == 175 and out["trace_no"] == 613995
    assert out["terminal_id"] == "60099914" and out["card_type"] == 2
    pan = str(out["pan"])
    assert pan.startswith("596666") and pan.endswith("0100") and set(pan[6:-4]) == {"*"}
    assert out["expiry_date"] == OMITTED


def test_ecrterm_big_registration_lists_the_handled_commands() -> None:
    out = msg(
        "06 00 63 00 00 00 FE 09 78 03 00 06 59 10 02 16 02 12 01 40 1A 02 10 00 26 28 0A 02 04"
        " 0F 0A 02 06 0F 0A 02 06 1E 0A 02 04 FF 0A 02 06 D8 0A 02 06 DB 0A 02 06 D9 0A 02 06 DA"
        " 0A 02 06 DD 0A 02 06 D3 27 03 14 01 FF 28 10 15 02 44 45 15 02 45 4E 15 02 46 52 15 02"
        " 49 54 40 02 C0 00 1F 04 02 F1 00 1F 05 01 00"
    )
    listed = next(item for item in out["tlv"] if item["tag"] == "26")  # type: ignore[union-attr]
    assert [c["value"] for c in listed["items"]][-1] == "06D3"
    assert len(listed["items"]) == 10


def test_ecrterm_print_lines_and_cp437_text() -> None:
    assert (
        msg("06 D1 17 00 20 20 20 20 20 20 20 20 20 4B 61 73 73 65 6E 73 63 68 6E 69 74 74")["text"]
        == "         Kassenschnitt"
    )
    assert msg("06d10d005465737420842094208120e1")["text"] == "Test ä ö ü ß"
    out = msg("04ff140a010610240e070c5465737420842094208120e1")
    assert out["intermediate_status"] == 0x0A and out["text"] == "Test ä ö ü ß"


def test_ecrterm_abort_with_manufacturer_text() -> None:
    out = msg(
        "061e2e6c062b1f1605ff000014411f1720416262727563682064757263682065787465726e6573204b6f6d"
        "6d616e646f21"
    )
    assert out["result_code"] == 0x6C
    assert {"tag": "1F16", "value": "FF00001441"} in out["tlv"]  # type: ignore[operator]


@pytest.mark.parametrize(
    "hex_text",
    [
        # research §7.2: the length bytes do not match the data (ecrterm parses them leniently)
        "06 1E 0E B8 06 11 23 09 08 02 01 23 08 02 45 67",
        "06 1E 11 B8 87 01 23 06 11 23 09 08 02 45 67 08 02 78 90",
        # research §7.6: spec erratum, length 0C but 20 bytes follow
        "06 01 0C 04 00 00 00 00 01 00 49 09 78 19 44 06 06 1F 73 03 00 00 01",
    ],
)
def test_inconsistent_vectors_are_refused_with_the_length_named(hex_text: str) -> None:
    with pytest.raises(ZvtDecodeError, match="length"):
        decode_apdu(bytes.fromhex(hex_text.replace(" ", "")))


# ---------------------------------------------------------------- §7.4 bezahl-online
def test_worldline_decline_with_host_text() -> None:
    out = msg(
        "040f31270529290010063cf0f1f54b6172746520616267656c65686e748a0d06132411070f4b617274652061"
        "6267656c65686e74"
    )
    assert out["result_code"] == 5 and out["terminal_id"] == "29001006"
    assert out["card_type"] == 0x0D and out["text"] == "Karte abgelehnt"


@pytest.mark.parametrize(
    ("hex_text", "fields"),
    [
        ("040f07276c2929001006", {"result_code": 0x6C, "terminal_id": "29001006"}),
        ("061e016c", {"result_code": 0x6C}),
        ("060f0a19002929001006490978", {"terminal_id": "29001006", "currency_code": 978}),
        ("04ff010e", {"intermediate_status": 0x0E}),
        ("060f01dc", {"terminal_status": 0xDC}),
    ],
)
def test_worldline_vectors(hex_text: str, fields: dict[str, object]) -> None:
    out = msg(hex_text)
    for key, value in fields.items():
        assert out[key] == value


def test_worldline_insert_card_text() -> None:
    out = msg(
        "04ff2e0a01062a242807264b6172746520766f7268616c74656e0a65696e737465636b656e2f647572636"
        "87a696568656e"
    )
    assert out["text"] == "Karte vorhalten\neinstecken/durchziehen"


# ---------------------------------------------------------------- §7.5 Portalum
def test_portalum_status_information_texts() -> None:
    abort = msg(
        "04 0F 1E 27 6C 29 28 00 48 69 3C F0 F1 F9 41 62 62 72 75 63 68 20 64 75 72 63 68 20 4B"
        " 75 6E 64 65"
    )
    assert abort["result_code"] == 0x6C and abort["text"] == "Abbruch durch Kunde"
    error = msg("04 0F 18 27 FF 29 28 00 48 69 3C F0 F1 F3 42 65 74 72 61 67 20 66 61 6C 73 63 68")
    assert error["result_code"] == 0xFF and error["text"] == "Betrag falsch"


def test_portalum_extended_length_is_little_endian() -> None:
    assert decode_apdu(bytes.fromhex("040FFF01006C")).data == b"\x6c"
    long = bytes.fromhex("040FFF0001") + bytes(256)
    assert len(decode_apdu(long).data) == 256
    assert Apdu(0x06, 0xD3, bytes(255)).encode()[:5] == bytes.fromhex("06D3FFFF00")


def test_portalum_amounts_and_negative_responses() -> None:
    assert msg("06 01 07 04 00 00 00 00 10 00")["amount"] == 1000
    assert msg("06 01 09 04 00 00 00 00 33 00 02 0A")["max_status_infos"] == 10
    out = msg("84 9D 07 04 00 00 00 00 22 00")
    assert out["error_code"] == 0x9D and out["amount"] == 2200


# ---------------------------------------------------------------- §7.6 spec / vendor memos
def test_spec_registration_and_completion_with_tlv() -> None:
    reg = msg("06 00 14 00 00 00 9E 09 78 06 0C 26 04 0A 02 06 D3 1F 73 03 00 00 00")
    assert reg["config_byte"] == 0x9E
    assert {"tag": "1F73", "value": "000000"} in reg["tlv"]  # type: ignore[operator]
    done = msg("06 0F 12 19 00 29 65 00 00 28 49 09 78 06 06 26 04 0A 02 06 D3")
    assert done["terminal_id"] == "65000028"
    vending = msg("06 00 0E 12 34 56 BE 09 78 06 06 26 04 0A 02 06 D3")
    assert vending["config_byte"] == 0xBE and vending["password"] == OMITTED
    assert msg("06 E0 0D F1 F1 F0 48 61 6C 6C 6F 20 57 65 6C 74")["display_line_1"] == "Hallo Welt"


# ---------------------------------------------------------------- our own requests
def test_registration_matches_the_vending_memo() -> None:
    apdu = commands.registration("123456", 978)
    assert apdu.encode()[:9] == bytes.fromhex("0600") + bytes([len(apdu.data)]) + bytes.fromhex(
        "123456BE0978"
    )
    out = decode_message(apdu).to_json()
    listed = out["tlv"][0]["items"]
    assert {"tag": "0A", "value": "06D3"} in listed


def test_open_preauth_enquiry_is_the_spec_bytes() -> None:
    assert commands.open_preauth_enquiry().encode() == bytes.fromhex("06230387FFFF")
    assert commands.abort().encode() == bytes.fromhex("06B000")


def test_preauthorisation_carries_amount_currency_and_reference() -> None:
    out = decode_message(commands.preauthorisation(2500, 978, "384HH2")).to_json()
    assert out["amount"] == 2500 and out["currency_code"] == 978 and out["payment_type"] == 0x40
    e9 = out["tlv"][0]
    assert e9["tag"] == "E9"
    assert e9["items"][1] == {"tag": "1F63", "text": "384HH2"}


@pytest.mark.parametrize("bad", [-1, 10**12])
def test_amounts_out_of_range_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="amount"):
        commands.partial_reversal(1, bad, 978)


def test_settle_commands_carry_receipt_and_amount() -> None:
    partial = decode_message(commands.partial_reversal(491, 1295, 978)).to_json()
    assert partial["receipt_no"] == 491 and partial["amount"] == 1295
    book = decode_message(commands.book_total(231, 1205, 978)).to_json()
    assert book["command"] == "06 24" and book["amount"] == 1205
    assert commands.preauth_reversal(231, 978).encode() == bytes.fromhex(
        "06250687023149 0978".replace(" ", "")
    )


# ---------------------------------------------------------------- round trips
def test_tlv_round_trip_with_long_lengths_and_multibyte_tags() -> None:
    items = (
        tlv(0x1F16, b"\xff\x00"),
        constructed(0x25, tlv(0x07, b"x" * 200), tlv(0x09, b"\xff")),
        tlv(0x1F8000, b"\x01"),
        tlv(0x07, b"y" * 300),
    )
    raw = encode_tlv(items)
    back = decode_tlv(raw)
    assert [i.tag for i in back] == [0x1F16, 0x25, 0x1F8000, 0x07]
    assert back[1].children is not None and back[1].children[0].value == b"x" * 200
    assert len(back[3].value) == 300 and raw.count(bytes([0x82, 0x01, 0x2C])) == 1
    assert encode_tlv(back) == raw


def test_feig_ff_tags_are_kept_as_bytes_when_not_tlv() -> None:
    (item,) = decode_tlv(bytes.fromhex("FF010301FFFF"))
    assert item.tag == 0xFF01 and item.children is None and item.value == bytes.fromhex("01FFFF")


def test_unknown_bmp_is_kept_not_fatal() -> None:
    out = decode_bmps(bytes.fromhex("2700") + bytes.fromhex("6C0102"))
    assert out.get(0x27) == 0 and out.unknown == bytes.fromhex("6C0102")


def test_several_apdus_split_and_incomplete_refused() -> None:
    raw = bytes.fromhex("800000") + bytes.fromhex("04FF010E") + bytes.fromhex("060F00")
    assert [a.command for a in split_apdus(raw)] == ["80 00", "04 FF", "06 0F"]
    with pytest.raises(ZvtDecodeError, match="byte 3"):
        split_apdus(bytes.fromhex("80000004FF02"))


def test_totals_round_trip() -> None:
    raw = encode_totals(12, 19, {"Mastercard": (2, 958), "VISA": (1, 100)})
    out = decode_totals(raw)
    assert out["receipt_from"] == 12 and out["receipt_to"] == 19
    brands = {b["brand"]: (b["count"], b["amount"]) for b in out["brands"]}  # type: ignore[union-attr, index]
    assert brands["Mastercard"] == (2, 958) and brands["VISA"] == (1, 100)
    assert brands["girocard"] == (0, 0)
    assert decode_bmps(encode_bmp(0x60, raw)).get(0x60) == out


@pytest.mark.parametrize(
    ("digits", "masked"),
    [
        ("5413330089020011", "541333******0011"),
        ("559883EEEEEE8074", "559883******8074"),
        ("4111111111111111111", "411111*********1111"),
        ("123456789", "*****6789"),
        ("1234", "****"),
        ("54133300890200F", "541333****0200"),
    ],
)
def test_pan_masking_shows_at_most_first6_last4(digits: str, masked: str) -> None:
    assert mask_pan(digits) == masked


def test_track_data_is_never_decoded() -> None:
    track2 = encode_bmp(0x23, bytes.fromhex("5413330089020011D25121"))
    out = decode_message(Apdu(0x04, 0x0F, bytes.fromhex("2700") + track2)).to_json()
    assert out["track_2"] == OMITTED
    assert "5413330089" not in str(out)


def test_tlv_round_trip_preserves_structure() -> None:
    tree = (constructed(0x23, tlv(0x08, b"\x01\x23"), tlv(0x08, b"\x45\x67")),)
    assert decode_tlv(encode_tlv(tree)) == (Tlv(0x23, encode_tlv(tree)[2:], tree[0].children),)
