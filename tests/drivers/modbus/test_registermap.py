"""Register maps: shipped files load, known register images decode to the manuals' values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.charger.controller_map import controller_spec
from drivers.modbus.registermap import (
    MapError,
    RegisterMap,
    RegisterSpec,
    apply_exponents,
    available_models,
    load_map,
    parse_map,
)
from kiosk.devices import IecState


def decode_image(regmap: RegisterMap, image: dict[int, int]) -> dict[str, float | None]:
    """Decode every register of the map whose words are all in `image`."""
    out = {}
    for spec in regmap.registers.values():
        words = [image.get(spec.address + i) for i in range(spec.count)]
        if all(w is not None for w in words):
            out[spec.name] = spec.decode([w for w in words if w is not None])
    return out


def test_every_shipped_map_loads() -> None:
    models = available_models()
    assert {"sdm630", "sdm72d-m", "sdm120", "em340", "abb-b23"} <= set(models)
    assert {"phoenix-ev-ser", "phoenix-ev-eth", "bender-cc612"} <= set(models)
    for name in models:
        regmap = load_map(name)
        assert regmap.model == name
        if regmap.kind == "meter":
            assert "energy_import" in regmap.registers
        else:
            controller_spec(regmap)


# Images built by hand from the manuals' encodings (IEEE754 big-endian words, CG INT32 with the
# low word first, ABB UINT64/UINT32/INT32 big-endian with fixed weights).
SDM630_IMAGE = {
    0: 0x4366,
    1: 0x199A,  # 230.1 V L1
    2: 0x4365,
    3: 0xCCCD,  # 229.8 V L2
    4: 0x4366,
    5: 0x6666,  # 230.4 V L3
    6: 0x417E,
    7: 0x6666,  # 15.9 A L1
    52: 0x462B,
    53: 0xE000,  # 11000 W total
    70: 0x4248,
    71: 0x0000,  # 50 Hz
    72: 0x4640,
    73: 0xE6B6,  # 12345.678 kWh import
    74: 0x4145,
    75: 0x851F,  # 12.345 kWh export
}


def test_sdm630_image_decodes_to_documented_values() -> None:
    values = decode_image(load_map("sdm630"), SDM630_IMAGE)
    assert values["voltage_l1"] == pytest.approx(230.1, abs=1e-4)
    assert values["voltage_l2"] == pytest.approx(229.8, abs=1e-4)
    assert values["voltage_l3"] == pytest.approx(230.4, abs=1e-4)
    assert values["current_l1"] == pytest.approx(15.9, abs=1e-5)
    assert values["power_total"] == 11000.0
    assert values["frequency"] == 50.0
    assert values["energy_import"] == pytest.approx(12_345_678, abs=1)  # Wh
    assert values["energy_export"] == pytest.approx(12_345, abs=0.01)


def test_sdm630_nan_is_no_value() -> None:
    spec = load_map("sdm630").registers["energy_import"]
    assert spec.decode([0x7FC0, 0x0000]) is None
    assert spec.decode([0x7F80, 0x0000]) is None  # +inf


def test_sdm72_and_sdm120_share_the_eastron_layout() -> None:
    sdm72 = decode_image(load_map("sdm72d-m"), SDM630_IMAGE)
    assert set(sdm72) == {"power_total", "energy_import", "energy_export"}
    assert sdm72["energy_import"] == pytest.approx(12_345_678, abs=1)
    image = {**SDM630_IMAGE, 12: 0x462B, 13: 0xE000}  # SDM120: active power at 30013
    sdm120 = decode_image(load_map("sdm120"), image)
    assert sdm120["voltage_l1"] == pytest.approx(230.1, abs=1e-4)
    assert sdm120["power_total"] == 11000.0
    assert sdm120["frequency"] == 50.0


def test_em340_image_low_word_first_with_weights() -> None:
    image = {
        0: 0x08FD,
        1: 0x0000,  # 2301 x 0.1 V
        12: 0x3E1C,
        13: 0x0000,  # 15900 x 0.001 A
        18: 0x7108,
        19: 0xFFFF,  # -36600 x 0.1 W (export on L1)
        51: 0x01F4,  # 500 x 0.1 Hz
        52: 0xE240,
        53: 0x0001,  # 123456 x 0.1 kWh
    }
    values = decode_image(load_map("em340"), image)
    assert values["voltage_l1"] == pytest.approx(230.1)
    assert values["current_l1"] == pytest.approx(15.9)
    assert values["power_l1"] == pytest.approx(-3660.0)
    assert values["frequency"] == pytest.approx(50.0)
    assert values["energy_import"] == pytest.approx(12_345_600)


def test_abb_b23_image_and_not_available_markers() -> None:
    regmap = load_map("abb-b23")
    image = {
        0x5000: 0,
        0x5001: 0,
        0x5002: 0x0012,
        0x5003: 0xD687,  # 1234567 x 0.01 kWh
        0x5B00: 0x0000,
        0x5B01: 0x08FD,  # 2301 x 0.1 V
        0x5B14: 0x0010,
        0x5B15: 0xC8E0,  # 1100000 x 0.01 W
        0x5B2C: 5000,  # 50.00 Hz
    }
    values = decode_image(regmap, image)
    assert values["energy_import"] == pytest.approx(12_345_670)
    assert values["voltage_l1"] == pytest.approx(230.1)
    assert values["power_total"] == pytest.approx(11000.0)
    assert values["frequency"] == pytest.approx(50.0)
    r = regmap.registers
    assert r["energy_import"].decode([0xFFFF] * 4) is None
    assert r["voltage_l1"].decode([0xFFFF, 0xFFFF]) is None
    assert r["power_total"].decode([0x7FFF, 0xFFFF]) is None
    assert r["frequency"].decode([0xFFFF]) is None
    assert r["power_total"].decode([0x8000, 0x0000]) == pytest.approx(-21474836.48)


@pytest.mark.parametrize(
    ("model", "raw", "state", "text"),
    [
        ("phoenix-ev-ser", 0x4131, IecState.A, "A1"),
        ("phoenix-ev-ser", 0x4231, IecState.B, "B1"),
        ("phoenix-ev-ser", 0x4332, IecState.C, "C2"),
        ("phoenix-ev-ser", 0x4432, IecState.D, "D2"),
        ("phoenix-ev-ser", 0x4530, IecState.E, "E0"),
        ("phoenix-ev-ser", 0x4630, IecState.F, "F0"),
        ("phoenix-ev-ser", 0x5A5A, IecState.UNKNOWN, "ZZ"),
        ("phoenix-ev-eth", 0x0043, IecState.C, "C"),
        ("phoenix-ev-eth", 0x0041, IecState.A, "A"),
        ("bender-cc612", 1, IecState.A, "1"),
        ("bender-cc612", 2, IecState.B, "2"),
        ("bender-cc612", 4, IecState.C, "4"),
        ("bender-cc612", 6, IecState.F, "6"),
        ("bender-cc612", 9, IecState.UNKNOWN, "9"),
    ],
)
def test_controller_states_normalise_to_iec_61851(
    model: str, raw: int, state: IecState, text: str
) -> None:
    assert controller_spec(load_map(model)).decode_state(raw) == (state, text)


def test_bender_error_bits_have_names() -> None:
    spec = controller_spec(load_map("bender-cc612"))
    assert spec.errors is not None
    raw = spec.errors.decode_raw([0x0000, 0x0022])
    assert spec.error_names(int(raw)) == {"vehicle_state_e", "rcd_tripped"}


# ------------------------------------------------------------------ broken maps


def _map(register: dict[str, object]) -> dict[str, object]:
    return {"model": "x", "kind": "meter", "registers": {"energy_import": register}}


@pytest.mark.parametrize(
    ("register", "message"),
    [
        ({"function": 4, "type": "float32"}, "registers.energy_import.address: is missing"),
        ({"address": 1, "function": 4, "type": "float31"}, "'float31' is not one of"),
        ({"address": 1, "function": 5, "type": "float32"}, ".function: must be an integer 3..4"),
        ({"address": 1, "function": 4, "type": "int16", "word_order": "middle"}, "word_order"),
        ({"address": 1, "function": 4, "type": "int16", "valid": [5, 1]}, ".valid: must be"),
        ({"address": 1, "function": 4, "type": "int16", "scale": 0}, ".scale: must not be 0"),
        ({"address": 1, "function": 4, "type": "int16", "unit": "furlong"}, ".unit:"),
        ({"address": 1, "function": 4, "type": "int16", "colour": 1}, "unknown key(s) colour"),
        ({"address": -1, "function": 4, "type": "int16"}, ".address: must be an integer"),
    ],
)
def test_broken_register_is_named(register: dict[str, object], message: str) -> None:
    with pytest.raises(MapError) as info:
        parse_map(_map(register), "mine.json")
    assert message in str(info.value)
    assert str(info.value).startswith("mine.json: ")


def test_user_supplied_map_file_json_and_toml(tmp_path: Path) -> None:
    good = _map({"address": 72, "function": 4, "type": "float32", "unit": "kWh"})
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(good))
    assert load_map(str(path)).registers["energy_import"].unit == "kWh"
    toml = tmp_path / "mine.toml"
    toml.write_text(
        'model = "x"\nkind = "meter"\n[registers.energy_import]\n'
        'address = 72\nfunction = 4\ntype = "float32"\nunit = "kWh"\n'
    )
    assert load_map(str(toml)).registers["energy_import"].address == 72
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": "x",')
    with pytest.raises(MapError, match=r"broken\.json: not valid JSON"):
        load_map(str(broken))
    with pytest.raises(MapError, match="cannot read"):
        load_map(str(tmp_path / "missing.json"))
    with pytest.raises(MapError, match="unknown profile 'sdm999'"):
        load_map("sdm999")


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_keys = st.sampled_from(
    ["address", "function", "type", "word_order", "scale", "unit", "no_value", "valid"]
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_keys, _json, max_size=8))
def test_any_register_entry_parses_or_names_the_problem(register: dict[str, object]) -> None:
    try:
        regmap = parse_map(_map(register), "fuzz.json")
    except MapError as exc:
        assert str(exc).startswith("fuzz.json: ")
    else:
        spec = regmap.registers["energy_import"]
        value = spec.decode([0] * spec.count)
        assert value is None or math.isfinite(value)


TYPE_NAMES = ["int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]


@settings(max_examples=300, deadline=None)
@given(
    type_name=st.sampled_from(TYPE_NAMES),
    word_order=st.sampled_from(["big", "little"]),
    words=st.lists(st.integers(0, 0xFFFF), min_size=4, max_size=4),
)
def test_decoding_agrees_with_pymodbus(type_name: str, word_order: str, words: list[int]) -> None:
    # The registers are decoded with precompiled structs, not pymodbus' converter (cheaper on
    # every poll); both must read the same value from the same words.
    from pymodbus.client.mixin import ModbusClientMixin

    spec = RegisterSpec("x", 0, 4, type_name, word_order)  # type: ignore[arg-type]
    registers = words[: spec.count]
    ours = spec.decode_raw(registers)
    theirs = ModbusClientMixin.convert_from_registers(
        registers,
        getattr(ModbusClientMixin.DATATYPE, type_name.upper()),
        word_order=word_order,  # type: ignore[arg-type]
    )
    assert type(ours) is type(theirs)
    assert ours == theirs or (math.isnan(ours) and math.isnan(theirs))  # type: ignore[arg-type]


# ------------------------------------------------------------------ Iskra WM3M4C (T5/T6)


def test_wm3m4c_image_decodes_decade_exponent_formats() -> None:
    regmap = load_map("wm3m4c")
    image = {
        105: 0xFE00,
        106: 0x1388,  # T5: exponent -2, 5000 -> 50.00 Hz
        107: 0xFD03,
        108: 0x82D4,  # T5: exponent -3, 230100 -> 230.1 V
        126: 0xFDFF,
        127: 0xC1E4,  # T6: exponent -3, -15900 -> -15.9 A (24-bit two's complement)
        140: 0x0100,
        141: 0x044C,  # T6: exponent +1, 1100 -> 11000 W
        414: 0x0001,  # import counter exponent: x 10
        418: 0x0012,
        419: 0xD687,  # 1234567 -> 12345670 Wh
        415: 0xFFFF,  # export counter exponent -1 (int16)
        420: 0x0000,
        421: 0x3039,  # 12345 -> 1234.5 Wh
    }
    values = apply_exponents(decode_image(regmap, image), regmap.registers.values())
    assert values["frequency"] == pytest.approx(50.0)
    assert values["voltage_l1"] == pytest.approx(230.1)
    assert values["current_l1"] == pytest.approx(-15.9)
    assert values["power_total"] == pytest.approx(11000.0)
    assert values["energy_import"] == pytest.approx(12_345_670)
    assert values["energy_export"] == pytest.approx(1234.5)


@pytest.mark.parametrize("value", [0.0, 50.0, 230.1, 11000.0, -3660.0, 15.9, 1e9])
def test_decade_exponent_formats_round_trip(value: float) -> None:
    regmap = load_map("wm3m4c")
    signed = regmap.registers["power_l1"]  # exp10_int24
    assert signed.decode(signed.encode(value)) == pytest.approx(value, rel=1e-6)
    if value >= 0:
        unsigned = regmap.registers["voltage_l1"]  # exp10_uint24
        assert unsigned.decode(unsigned.encode(value)) == pytest.approx(value, rel=1e-6)


@pytest.mark.parametrize(
    ("exponent", "message"),
    [
        ("nope", "'nope' is not a register of this map"),
        ("power", "must be an int16 or uint16"),
        (3, "must name a register of this map"),
    ],
)
def test_a_broken_exponent_reference_is_named(exponent: object, message: str) -> None:
    data = {
        "model": "x",
        "kind": "meter",
        "registers": {
            "energy_import": {"address": 2, "function": 4, "type": "int32", "exponent": exponent},
            "power": {"address": 0, "function": 4, "type": "int32"},
        },
    }
    with pytest.raises(MapError, match=r"registers\.energy_import\.exponent") as info:
        parse_map(data, "mine.json")
    assert message in str(info.value)


def test_an_absurd_exponent_register_gives_no_value_not_an_overflow() -> None:
    regmap = load_map("wm3m4c")
    values: dict[str, float | None] = {"energy_import": 1234.0, "energy_import_exponent": 32767.0}
    assert apply_exponents(values, regmap.registers.values())["energy_import"] is None
