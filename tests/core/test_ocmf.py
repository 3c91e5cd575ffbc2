"""The OCMF record: parse, build, sign, verify, and the checks a verifier applies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.ocmf import OcmfError, build_payload, parse_ocmf
from kiosk.ocmf.check import Problem, check_transaction, pagination_gaps, signed_energy_wh
from kiosk.ocmf.crypto import load_public_key, public_key_hex, sign_fields, sign_payload, verify

KEY = ec.derive_private_key(0xC0FFEE, ec.SECP256R1())
PUBLIC = public_key_hex(KEY.public_key())


def fields(**override: object) -> dict[str, object]:
    base: dict[str, object] = {
        "FV": "1.0",
        "GI": "EVKIOSK SIM",
        "GS": "SIM-1",
        "GV": "1.0",
        "PG": "T7",
        "MV": "Carlo Gavazzi",
        "MM": "EM580",
        "MS": "EM580-0001",
        "MF": "1.2.3",
        "IS": False,
        "IT": "NONE",
        "CT": "EVSEID",
        "CI": "DE*EVK*E0001*1",
        "TT": "0,39 EUR/kWh",
        "RD": [
            {
                "TM": "2026-12-07T10:00:00,000+0100 I",
                "TX": "B",
                "RV": Decimal("1234.5670"),
                "RI": "1-b:1.8.0",
                "RU": "kWh",
                "RT": "AC",
                "EF": "",
                "ST": "G",
            },
            {"TM": "2026-12-07T11:00:00,000+0100 I", "TX": "E", "RV": Decimal("1244.5670")},
        ],
    }
    base.update(override)
    return base


def test_a_signed_record_verifies_and_yields_end_minus_begin() -> None:
    record = parse_ocmf(sign_fields(fields(), KEY))
    assert verify(record, PUBLIC)
    assert record.pagination == ("T", 7)
    assert record.tariff_text == "0,39 EUR/kWh"
    assert signed_energy_wh(record) == Decimal("10000.0000")
    # Later readings inherit omitted fields (unit, status) from the one before.
    assert record.readings[1].unit == "kWh" and record.readings[1].status == "G"


def test_reading_values_keep_their_textual_form() -> None:
    text = sign_fields(fields(), KEY)
    assert '"RV":1234.5670' in text
    assert parse_ocmf(text).readings[0].value_text == "1234.5670"


def test_the_payload_is_verified_byte_for_byte_not_re_serialised() -> None:
    # Whitespace in the signed payload is part of what was signed; keep it.
    payload = '{"FV": "1.0", "PG": "T1", "IS": false, "RD": []}'
    record = parse_ocmf(sign_payload(payload, KEY))
    assert record.payload_text == payload
    assert verify(record, PUBLIC)


@pytest.mark.parametrize(("old", "new"), [("1244.5670", "1244.5671"), ("T7", "T8")])
def test_one_changed_character_fails_verification(old: str, new: str) -> None:
    text = sign_fields(fields(), KEY)
    assert not verify(parse_ocmf(text.replace(old, new)), PUBLIC)


def test_another_meters_key_fails_verification() -> None:
    other = public_key_hex(ec.generate_private_key(ec.SECP256R1()).public_key())
    assert not verify(parse_ocmf(sign_fields(fields(), KEY)), other)


def test_public_keys_load_in_every_form_meters_publish() -> None:
    numbers = KEY.public_key().public_numbers()
    xy = numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
    record = parse_ocmf(sign_fields(fields(), KEY))
    for form in (PUBLIC, PUBLIC.lower(), "04" + xy.hex(), xy.hex()):
        assert verify(record, load_public_key(form))
    assert PUBLIC.startswith("3059301306072A8648CE3D020106082A8648CE3D030107034200")


@pytest.mark.parametrize("first", [0x04, 0x30, 0x02])
def test_a_raw_key_whose_x_begins_like_a_prefix_still_loads(first: int) -> None:
    # A WM3M4C publishes X‖Y: an X beginning with 0x04 (the uncompressed point's tag) or 0x30
    # (DER's) was taken for that form, and the meter for one without a signing key.
    while True:
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        xy = numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
        if xy[0] == first:
            break
    loaded = load_public_key(xy.hex())
    assert loaded.public_numbers() == numbers
    assert public_key_hex(loaded) == public_key_hex(key.public_key())
    record = parse_ocmf(sign_fields(fields(), key))
    assert verify(record, load_public_key(xy.hex()))


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("OCMF|{}", "record"),
        ("XCMF|{}|{}", "record"),
        ("OCMF|[]|{}", "payload"),
        ('OCMF|{"PG":"T1","IS":false}|{}', "signature.SD"),
        ('OCMF|{"PG":"Q1","IS":false}|{"SD":"00"}', "payload.PG"),
        ('OCMF|{"PG":"T1","IS":false,"RD":[{"TM":"x"}]}|{"SD":"00"}', "payload.RD[0].TM"),
        ('OCMF|{"PG":"T1","IS":false,"MS":7}|{"SD":"00"}', "payload.MS"),
        ('OCMF|{"PG":"T1","IS":false,"RD":{}}|{"SD":"00"}', "payload.RD"),
        ('OCMF|{"PG":"T1","IS":false}|{"SD":"00","SE":"rot13"}', "signature.SE"),
        ('OCMF|{"PG":"T1"}|{"SD":"00"}', "payload.IS"),
        ("OCMF|" + "[" * 10_000 + "|{}", "payload"),
        (7, "record"),
    ],
)
def test_bad_records_are_refused_naming_the_field(text: object, field: str) -> None:
    with pytest.raises(OcmfError) as info:
        parse_ocmf(text)
    assert info.value.field == field


def test_bad_reading_values_are_named() -> None:
    rd = [{"TM": "2026-12-07T10:00:00,000+0100 S", "TX": "B", "RV": "12", "RU": "kWh", "ST": "G"}]
    with pytest.raises(OcmfError, match=r"payload.RD\[0\].RV: must be a number"):
        parse_ocmf(sign_fields(fields(RD=rd), KEY))


def test_an_unsupported_algorithm_is_named() -> None:
    record = parse_ocmf(sign_fields(fields(), KEY).replace("secp256r1", "secp192k1"))
    with pytest.raises(OcmfError, match=r"signature\.SA"):
        verify(record, PUBLIC)


def test_the_pipe_cannot_be_built_into_a_payload() -> None:
    with pytest.raises(OcmfError, match="pipe"):
        build_payload(fields(TT="a|b"))


def _readings(*specs: tuple[str, str, str, str]) -> list[dict[str, object]]:
    return [
        {
            "TM": "2026-12-07T10:00:00,000+0100 I",
            "TX": tx,
            "RV": Decimal(rv),
            "RU": "kWh",
            "ST": st,
            "EF": ef,
        }
        for tx, rv, st, ef in specs
    ]


@pytest.mark.parametrize(
    ("readings", "problem"),
    [
        (_readings(("B", "1", "G", "")), Problem.NO_END),
        (_readings(("E", "1", "G", "")), Problem.NO_BEGIN),
        (_readings(("B", "1", "G", ""), ("E", "2", "E", "")), Problem.STATUS),
        (_readings(("B", "1", "G", ""), ("E", "2", "G", "E")), Problem.ERROR_FLAGS),
        (_readings(("B", "5", "G", ""), ("E", "2", "G", "")), Problem.WENT_BACK),
    ],
)
def test_unbillable_records_are_found(readings: list[dict[str, object]], problem: Problem) -> None:
    record = parse_ocmf(sign_fields(fields(RD=readings), KEY))
    assert problem in {f.problem for f in check_transaction(record)}
    with pytest.raises(OcmfError, match=problem.value.split(" (")[0]):
        signed_energy_wh(record)


def test_pagination_gaps_are_listed_as_runs() -> None:
    assert pagination_gaps([1, 2, 3]) == []
    assert pagination_gaps([4, 1, 2, 7, 8, 10]) == [(3, 3), (5, 6), (9, 9)]
