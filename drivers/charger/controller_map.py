"""The `controller` section of a charger map: how a vendor encodes state, enable and current.

Three state encodings cover the shipped controllers (more are data, not code):

- ``ascii_pair``: one register holding two ASCII characters, e.g. 0x4231 = "B1" (Phoenix serial).
- ``ascii_low``: the state letter in the low byte (Phoenix ETH).
- ``enum``: a small integer, translated through ``values`` (Bender: 1 = A, 2 = B, ...).

``settings_refresh_s`` (optional) spaces out the reads of the enable state and the current
setpoint, which only the kiosk's own writes change: the state (a car plugging in) and the error
flags are read on every status, the settings at most this often, and again at once after a
failed request or a change of state.

Enabling is either a coil (``{"kind": "coil", "address": N}``) or ``current_zero``: the current
setpoint is written as 0 to pause and as the setpoint to allow charging (Bender HEMS limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.modbus.registermap import MapError, RegisterMap, RegisterSpec
from kiosk.devices import IecState

ENCODINGS = ("ascii_pair", "ascii_low", "enum")
ENABLE_KINDS = ("coil", "current_zero")


@dataclass(frozen=True, slots=True)
class SetupWrite:
    address: int
    value: int
    why: str


@dataclass(frozen=True, slots=True)
class ControllerSpec:
    regmap: RegisterMap
    state: RegisterSpec
    encoding: str
    state_values: dict[int, str]
    enable_kind: str
    enable_address: int | None
    current: RegisterSpec
    min_a: float
    max_a: float
    setup: tuple[SetupWrite, ...]
    errors: RegisterSpec | None
    error_bits: dict[int, str]
    reassert_s: float
    watchdog_s: float | None
    # The enable state and current setpoint change only when the kiosk writes them (or the
    # controller restarts): status() re-reads them at most this often (None: on every call).
    settings_refresh_s: float | None = None

    def decode_state(self, raw: int) -> tuple[IecState, str]:
        """(normalised state, the raw value as text) for one state register value."""
        if self.encoding == "ascii_pair":
            text = bytes([(raw >> 8) & 0xFF, raw & 0xFF]).decode("latin-1").strip("\x00 ")
        elif self.encoding == "ascii_low":
            text = chr(raw & 0xFF).strip("\x00 ")
        else:
            letter = self.state_values.get(raw)
            return (_letter(letter) if letter else IecState.UNKNOWN), str(raw)
        return _letter(text[:1]), text

    def encode_state(self, letter: str, suffix: str = "") -> int:
        """The register value a device reports for `letter` (+ "1"/"2" suffix): for simulators."""
        if self.encoding == "ascii_pair":
            second = suffix or "0"
            return (ord(letter) << 8) | ord(second)
        if self.encoding == "ascii_low":
            return ord(letter)
        for value, mapped in sorted(self.state_values.items()):
            if mapped == letter:
                return value
        raise ValueError(f"{self.regmap.model}: no raw value for state {letter}")

    def error_names(self, raw: int) -> frozenset[str]:
        return frozenset(
            self.error_bits.get(bit, f"bit{bit}") for bit in range(64) if raw >> bit & 1
        )


def _letter(text: str) -> IecState:
    try:
        return IecState(text) if text in "ABCDEF" and text else IecState.UNKNOWN
    except ValueError:
        return IecState.UNKNOWN


def _fail(regmap: RegisterMap, path: str, why: str) -> MapError:
    return MapError(f"{regmap.model}: controller.{path}: {why}")


def _register(regmap: RegisterMap, section: dict[str, Any], path: str) -> RegisterSpec:
    name = section.get("register")
    if not isinstance(name, str) or name not in regmap.registers:
        raise _fail(regmap, f"{path}.register", f"{name!r} is not a register of this map")
    return regmap.registers[name]


def controller_spec(regmap: RegisterMap) -> ControllerSpec:
    if regmap.kind != "charger":
        raise MapError(
            f"profile {regmap.model!r} describes a {regmap.kind}, not a charge controller"
        )
    c = regmap.extra.get("controller")
    if not isinstance(c, dict):
        raise _fail(regmap, "", "section 'controller' is missing")
    state = c.get("state")
    if not isinstance(state, dict):
        raise _fail(regmap, "state", "must be an object")
    encoding = state.get("encoding")
    if encoding not in ENCODINGS:
        raise _fail(regmap, "state.encoding", f"{encoding!r} is not one of {', '.join(ENCODINGS)}")
    values: dict[int, str] = {}
    if encoding == "enum":
        raw_values = state.get("values")
        if not isinstance(raw_values, dict) or not raw_values:
            raise _fail(regmap, "state.values", "enum encoding needs a value table")
        for key, letter in raw_values.items():
            if not str(key).isdigit() or letter not in ("A", "B", "C", "D", "E", "F"):
                raise _fail(
                    regmap, f"state.values.{key}", f"must map an integer to A..F, not {letter!r}"
                )
            values[int(key)] = letter
    enable = c.get("enable")
    if not isinstance(enable, dict) or enable.get("kind") not in ENABLE_KINDS:
        raise _fail(regmap, "enable.kind", f"must be one of {', '.join(ENABLE_KINDS)}")
    enable_address = enable.get("address")
    if enable["kind"] == "coil" and not isinstance(enable_address, int):
        raise _fail(regmap, "enable.address", "a coil address (integer) is required")
    current = c.get("current")
    if not isinstance(current, dict):
        raise _fail(regmap, "current", "must be an object")
    min_a, max_a = current.get("min_a", 6), current.get("max_a", 32)
    if not (
        isinstance(min_a, int | float) and isinstance(max_a, int | float) and 0 < min_a <= max_a
    ):
        raise _fail(
            regmap,
            "current",
            f"min_a/max_a must be numbers with 0 < min <= max, not {min_a}/{max_a}",
        )
    setup = []
    for i, item in enumerate(c.get("setup", [])):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("address"), int)
            or not isinstance(item.get("value"), int)
        ):
            raise _fail(regmap, f"setup[{i}]", "needs integer address and value")
        setup.append(SetupWrite(item["address"], item["value"], str(item.get("why", ""))))
    errors = None
    bits: dict[int, str] = {}
    flags = c.get("error_flags")
    if isinstance(flags, dict):
        errors = _register(regmap, flags, "error_flags")
        bits = {int(k): str(v) for k, v in dict(flags.get("bits", {})).items()}
    reassert = c.get("reassert_s", 25)
    watchdog = c.get("watchdog_s")
    if not isinstance(reassert, int | float) or reassert <= 0:
        raise _fail(regmap, "reassert_s", f"must be a positive number, not {reassert!r}")
    if watchdog is not None and (not isinstance(watchdog, int | float) or watchdog <= reassert):
        raise _fail(regmap, "watchdog_s", "must be null or longer than reassert_s")
    refresh = c.get("settings_refresh_s")
    if refresh is not None and (
        isinstance(refresh, bool) or not isinstance(refresh, int | float) or refresh <= 0
    ):
        raise _fail(regmap, "settings_refresh_s", f"must be null or positive, not {refresh!r}")
    return ControllerSpec(
        regmap=regmap,
        state=_register(regmap, state, "state"),
        encoding=encoding,
        state_values=values,
        enable_kind=enable["kind"],
        enable_address=enable_address if isinstance(enable_address, int) else None,
        current=_register(regmap, current, "current"),
        min_a=float(min_a),
        max_a=float(max_a),
        setup=tuple(setup),
        errors=errors,
        error_bits=bits,
        reassert_s=float(reassert),
        watchdog_s=None if watchdog is None else float(watchdog),
        settings_refresh_s=None if refresh is None else float(refresh),
    )
