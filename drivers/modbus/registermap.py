"""Register maps as data: one JSON (or TOML) file per device model, loaded and checked here.

A map file (see docs/meters.md for the full format) looks like::

    {
      "model": "sdm630", "kind": "meter", "title": "Eastron SDM630 Modbus V2",
      "comms": {"baudrate": 9600, "parity": "N", "stopbits": 1, "unit": 1,
                "gap_ms": 50, "timeout_ms": 500},
      "limits": {"max_registers": 80, "even_alignment": true, "max_hole": 40},
      "registers": {
        "energy_import": {"address": 72, "function": 4, "type": "float32",
                          "word_order": "big", "scale": 1, "unit": "kWh"}
      }
    }

Addresses are PDU addresses (the number on the wire: manual register 30073 is address 72).
`word_order` "big" means the most significant 16-bit word comes first. `scale` multiplies the raw
value to get `unit`. `no_value` lists raw integers the device uses for "not available"; NaN and
infinity are never numbers. `valid` gives a plausible [min, max] in `unit`.
"""

from __future__ import annotations

import json
import math
import struct
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    from pymodbus.client.mixin import ModbusClientMixin

WordOrder = Literal["big", "little"]

# Register count per type. pymodbus' DATATYPE (same names, upper case) does the conversion; it
# is looked up when a value is converted, so loading a map does not load pymodbus.
TYPES: dict[str, int] = {
    "int16": 1,
    "uint16": 1,
    "int32": 2,
    "uint32": 2,
    "int64": 4,
    "uint64": 4,
    "float32": 2,
    "float64": 4,
    # A signed 8-bit decade exponent in the high byte of the first register and a 24-bit
    # value in the remaining bits (Iskra's formats T5, unsigned, and T6, signed).
    "exp10_uint24": 2,
    "exp10_int24": 2,
}
EXP10_TYPES = frozenset({"exp10_uint24", "exp10_int24"})
EXPONENT_TYPES = frozenset({"int16", "uint16"})
MAX_DECADE_EXPONENT = 30  # beyond this an exponent register holds garbage, not a scale


# Decoding, per type: the registers as big-endian words, then the value. The same conversion as
# pymodbus' convert_from_registers, without its per-call checks and byte-by-byte assembly (the
# meters' 1 Hz polls decode a dozen values each).
_STRUCT_CODES = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "int64": "q",
                 "uint64": "Q", "float32": "f", "float64": "d"}  # fmt: skip
_UNPACKERS: dict[str, tuple[struct.Struct, struct.Struct]] = {
    name: (struct.Struct(f">{TYPES[name]}H"), struct.Struct(f">{code}"))
    for name, code in _STRUCT_CODES.items()
}


def _mixin() -> type[ModbusClientMixin[Any]]:
    from pymodbus.client.mixin import ModbusClientMixin  # noqa: PLC0415

    return ModbusClientMixin


def _datatype(name: str) -> Any:
    return getattr(_mixin().DATATYPE, name.upper())


REGISTER_FUNCTIONS = (3, 4)

# Units a map may use, as (base unit, factor to the base unit).
UNITS: dict[str, tuple[str, float]] = {
    "Wh": ("Wh", 1.0),
    "kWh": ("Wh", 1000.0),
    "MWh": ("Wh", 1_000_000.0),
    "W": ("W", 1.0),
    "kW": ("W", 1000.0),
    "V": ("V", 1.0),
    "A": ("A", 1.0),
    "Hz": ("Hz", 1.0),
    "%": ("%", 1.0),
    "1": ("1", 1.0),
    "s": ("s", 1.0),
}


class MapError(ValueError):
    """A register map file is broken. The message names the file, the key and why."""


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    name: str
    address: int
    function: int
    type: str
    word_order: WordOrder = "big"
    scale: float = 1.0
    unit: str = "1"
    no_value: frozenset[int] = frozenset()
    valid: tuple[float, float] | None = None
    exponent: str | None = None  # a register of the map holding this value's decade exponent

    @property
    def count(self) -> int:
        return TYPES[self.type]

    @property
    def base_unit(self) -> str:
        return UNITS[self.unit][0]

    def decode_raw(self, registers: list[int]) -> int | float:
        """The raw number as the device encodes it (before scale)."""
        if len(registers) != self.count:
            raise ValueError(f"{self.name}: needs {self.count} registers, got {len(registers)}")
        if self.type in EXP10_TYPES:
            return _exp10_decode(registers, signed=self.type == "exp10_int24")
        words, value = _UNPACKERS[self.type]
        ordered = registers if self.word_order == "big" else registers[::-1]
        return cast(int | float, value.unpack(words.pack(*ordered))[0])

    def decode(self, registers: list[int]) -> float | None:
        """The value in the base unit (Wh, W, V, A, Hz), or None for a "no value" marker."""
        if self.type in EXP10_TYPES and (registers[0] << 16 | registers[1]) in self.no_value:
            return None
        raw = self.decode_raw(registers)
        if isinstance(raw, float):
            if math.isnan(raw) or math.isinf(raw):
                return None
        elif raw in self.no_value:
            return None
        return float(raw) * self.scale * UNITS[self.unit][1]

    def encode(self, value: float) -> list[int]:
        """Registers that decode to `value` (base unit): what a simulator puts on the wire."""
        raw = value / UNITS[self.unit][1] / self.scale
        if self.type in EXP10_TYPES:
            return _exp10_encode(raw, signed=self.type == "exp10_int24")
        number: int | float = raw if self.type.startswith("float") else round(raw)
        return _mixin().convert_to_registers(
            number, _datatype(self.type), word_order=self.word_order
        )

    def encode_no_value(self) -> list[int]:
        if self.type in EXP10_TYPES:
            marker = min(self.no_value) if self.no_value else 0
            return [(marker >> 16) & 0xFFFF, marker & 0xFFFF]
        if self.type.startswith("float"):
            return _mixin().convert_to_registers(
                math.nan, _datatype(self.type), word_order=self.word_order
            )
        marker = min(self.no_value) if self.no_value else 0
        return _mixin().convert_to_registers(
            marker, _datatype(self.type), word_order=self.word_order
        )


def _exp10_decode(registers: list[int], *, signed: bool) -> int | float:
    exponent = (registers[0] >> 8) - 256 * (registers[0] >> 15)  # signed 8 bit
    mantissa = ((registers[0] & 0xFF) << 16) | registers[1]
    if signed and mantissa & 0x800000:
        mantissa -= 1 << 24
    return mantissa if exponent == 0 else mantissa * 10.0**exponent


def _exp10_encode(raw: float, *, signed: bool) -> list[int]:
    """The finest exponent (from -3) whose mantissa fits 24 bits, as a meter would choose."""
    limit = (1 << 23) if signed else (1 << 24)
    for exponent in range(-3, 128):
        mantissa = round(raw / 10.0**exponent)
        if -limit <= mantissa < limit and (signed or mantissa >= 0):
            word = ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF)
            return [word >> 16, word & 0xFFFF]
    raise ValueError(f"{raw!r} does not fit a 24-bit value with a decade exponent")


def apply_exponents(
    values: dict[str, float | None], specs: Iterable[RegisterSpec]
) -> dict[str, float | None]:
    """Values whose decade exponent is in another register, scaled by it (None if either is)."""
    for spec in specs:
        if spec.exponent is None or spec.name not in values:
            continue
        value, exponent = values[spec.name], values.get(spec.exponent)
        if value is None or exponent is None or abs(exponent) > MAX_DECADE_EXPONENT:
            values[spec.name] = None  # no number a meter means (the exponent's range says so)
        else:
            values[spec.name] = value * 10.0**exponent
    return values


@dataclass(frozen=True, slots=True)
class Comms:
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    unit: int = 1
    gap_s: float = 0.0
    timeout_s: float = 0.5


@dataclass(frozen=True, slots=True)
class Limits:
    max_registers: int = 125
    even_alignment: bool = False
    max_hole: int = 0


@dataclass(frozen=True, slots=True)
class RegisterMap:
    model: str
    kind: str
    title: str
    source: str
    comms: Comms
    limits: Limits
    registers: dict[str, RegisterSpec]
    extra: dict[str, Any] = field(default_factory=dict)  # kind-specific sections (controller)

    def get(self, name: str) -> RegisterSpec | None:
        return self.registers.get(name)


# ---------------------------------------------------------------------- parsing


class _Reader:
    """Pulls typed fields out of parsed JSON, naming the file and key path on any error."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, path: str, why: str) -> MapError:
        return MapError(f"{self.origin}: {path}: {why}")

    def obj(self, data: Any, path: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(path, f"must be an object, not {type(data).__name__}")
        return data

    def int_(  # noqa: PLR0917 - key, path and bounds read best positionally
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        lo: int,
        hi: int,
        default: int | None = None,
    ) -> int:
        if key not in data:
            if default is None:
                raise self.fail(f"{path}.{key}", "is missing")
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(f"{path}.{key}", f"must be an integer {lo}..{hi}, not {value!r}")
        return value

    def num(self, data: dict[str, Any], key: str, path: str, default: float) -> float:
        value = data.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.fail(f"{path}.{key}", f"must be a finite number, not {value!r}")
        return float(value)

    def str_(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        choices: tuple[str, ...] | None = None,
        default: str | None = None,
    ) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or not value:
            raise self.fail(f"{path}.{key}", f"must be a non-empty string, not {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(f"{path}.{key}", f"{value!r} is not one of {', '.join(choices)}")
        return value


def _register(r: _Reader, name: str, data: Any) -> RegisterSpec:
    path = f"registers.{name}"
    d = r.obj(data, path)
    unknown = set(d) - {
        "address",
        "function",
        "type",
        "word_order",
        "scale",
        "unit",
        "no_value",
        "valid",
        "exponent",
        "note",
    }
    if unknown:
        raise r.fail(path, f"unknown key(s) {', '.join(sorted(unknown))}")
    spec_type = r.str_(d, "type", path, tuple(TYPES))
    no_value_raw = d.get("no_value", [])
    if not isinstance(no_value_raw, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in no_value_raw
    ):
        raise r.fail(f"{path}.no_value", f"must be a list of integers, not {no_value_raw!r}")
    valid = d.get("valid")
    valid_pair: tuple[float, float] | None = None
    if valid is not None:
        if (
            not isinstance(valid, list)
            or len(valid) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in valid)
            or valid[0] > valid[1]
        ):
            raise r.fail(f"{path}.valid", f"must be [min, max] with min <= max, not {valid!r}")
        valid_pair = (float(valid[0]), float(valid[1]))
    exponent = d.get("exponent")
    if exponent is not None and (not isinstance(exponent, str) or not exponent):
        raise r.fail(f"{path}.exponent", f"must name a register of this map, not {exponent!r}")
    scale = r.num(d, "scale", path, 1.0)
    if scale == 0:
        raise r.fail(f"{path}.scale", "must not be 0")
    return RegisterSpec(
        name=name,
        address=r.int_(d, "address", path, 0, 65535),
        function=r.int_(d, "function", path, 3, 4),
        type=spec_type,
        word_order=cast(WordOrder, r.str_(d, "word_order", path, ("big", "little"), "big")),
        scale=scale,
        unit=r.str_(d, "unit", path, tuple(UNITS), "1"),
        no_value=frozenset(no_value_raw),
        valid=valid_pair,
        exponent=exponent,
    )


def _check_exponents(r: _Reader, registers: dict[str, RegisterSpec]) -> None:
    for spec in registers.values():
        if spec.exponent is None:
            continue
        path = f"registers.{spec.name}.exponent"
        holder = registers.get(spec.exponent)
        if holder is None:
            raise r.fail(path, f"{spec.exponent!r} is not a register of this map")
        if holder.type not in EXPONENT_TYPES or holder.exponent is not None:
            raise r.fail(path, f"{spec.exponent!r} must be an int16 or uint16 without exponent")
        if holder.function != spec.function:
            raise r.fail(path, f"{spec.exponent!r} must be read with the same function code")


def parse_map(data: Any, origin: str) -> RegisterMap:
    r = _Reader(origin)
    top = r.obj(data, "(top level)")
    comms_d = r.obj(top.get("comms", {}), "comms")
    limits_d = r.obj(top.get("limits", {}), "limits")
    regs_d = r.obj(top.get("registers", {}), "registers")
    if not regs_d:
        raise r.fail("registers", "must list at least one register")
    comms = Comms(
        baudrate=r.int_(comms_d, "baudrate", "comms", 1200, 115200, 9600),
        parity=r.str_(comms_d, "parity", "comms", ("N", "E", "O"), "N"),
        stopbits=r.int_(comms_d, "stopbits", "comms", 1, 2, 1),
        unit=r.int_(comms_d, "unit", "comms", 0, 255, 1),
        gap_s=r.int_(comms_d, "gap_ms", "comms", 0, 10_000, 0) / 1000,
        timeout_s=r.int_(comms_d, "timeout_ms", "comms", 10, 60_000, 500) / 1000,
    )
    limits = Limits(
        max_registers=r.int_(limits_d, "max_registers", "limits", 2, 125, 125),
        even_alignment=bool(limits_d.get("even_alignment", False)),
        max_hole=r.int_(limits_d, "max_hole", "limits", 0, 125, 0),
    )
    registers = {name: _register(r, name, spec) for name, spec in regs_d.items()}
    for spec in registers.values():
        if spec.count > limits.max_registers:
            raise r.fail(f"registers.{spec.name}", "is larger than limits.max_registers")
    _check_exponents(r, registers)
    known = {"model", "kind", "title", "source", "comms", "limits", "registers", "note"}
    return RegisterMap(
        model=r.str_(top, "model", "(top level)"),
        kind=r.str_(top, "kind", "(top level)", ("meter", "charger")),
        title=r.str_(top, "title", "(top level)", default=str(top.get("model", "?"))),
        source=str(top.get("source", "")),
        comms=comms,
        limits=limits,
        registers=registers,
        extra={k: v for k, v in top.items() if k not in known},
    )


def _read_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MapError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text)
        return json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MapError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {exc}") from exc


# Beside this module, as the window's icons are (importlib.resources costs ~12 ms of CPU to
# import, before the first frame, for a folder that is always a plain directory here).
MAPS_DIR = Path(__file__).resolve().parent / "maps"


def available_models() -> list[str]:
    """Models shipped with evkiosk (file names in drivers/modbus/maps without extension)."""
    return sorted(p.stem for p in MAPS_DIR.iterdir() if p.name.endswith(".json"))


def load_map(name_or_path: str) -> RegisterMap:
    """Load a shipped model by name (e.g. "sdm630") or a user-supplied file by path."""
    path = Path(name_or_path)
    if path.suffix in (".json", ".toml") or path.exists():
        return parse_map(_read_file(path), str(path))
    shipped = MAPS_DIR / f"{name_or_path}.json"
    if not shipped.is_file():
        raise MapError(
            f"unknown profile {name_or_path!r}: shipped profiles are "
            f"{', '.join(available_models())}; or give the path of a .json/.toml map"
        )
    text = shipped.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MapError(f"{name_or_path}.json: not valid JSON: {exc}") from exc
    return parse_map(data, f"{name_or_path}.json")
