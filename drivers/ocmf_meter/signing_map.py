"""A signing meter's register map (`maps/<model>.json`): addresses, sizes and command codes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.modbus.registermap import MapError

MAPS = Path(__file__).parent / "maps"
PROTOCOLS = ("em580", "iskra")


@dataclass(frozen=True, slots=True)
class Area:
    address: int
    words: int
    function: int  # for reads: 3 or 4


@dataclass(frozen=True, slots=True)
class SigningMap:
    model: str
    protocol: str
    title: str
    live_profile: str | None
    unit: int
    timeout_s: float
    gap_s: float
    max_read: int
    max_write: int
    areas: dict[str, Area]
    codes: dict[str, Any]

    def area(self, name: str) -> Area:
        try:
            return self.areas[name]
        except KeyError:
            raise MapError(f"{self.model}: registers.{name}: missing from the map") from None

    def state_name(self, raw: int) -> str:
        return str(self.codes["state"].get(str(raw), f"unknown ({raw})"))


def _int(data: dict[str, Any], key: str, where: str, lo: int, hi: int) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise MapError(f"{where}.{key}: must be a whole number {lo}..{hi}, got {value!r}")
    return value


def parse_signing_map(data: Any, origin: str) -> SigningMap:
    if not isinstance(data, dict):
        raise MapError(f"{origin}: must be a JSON object")
    protocol = data.get("protocol")
    if protocol not in PROTOCOLS:
        raise MapError(f"{origin}: protocol: must be one of {', '.join(PROTOCOLS)}")
    read_function = _int(data, "read_function", origin, 3, 4)
    regs = data.get("registers")
    if not isinstance(regs, dict) or not regs:
        raise MapError(f"{origin}: registers: must be a non-empty object")
    areas: dict[str, Area] = {}
    for name, spec in regs.items():
        where = f"{origin}: registers.{name}"
        if not isinstance(spec, dict):
            raise MapError(f"{where}: must be an object")
        words = _int(spec, "words", where, 1, 4096) if "words" in spec else 1
        function = _int(spec, "function", where, 3, 4) if "function" in spec else read_function
        address = _int(spec, "address", where, 0, 65535)
        if address + words > 65536:
            raise MapError(f"{where}: runs past register 65535")
        areas[name] = Area(address, words, function)
    comms = data.get("comms")
    if not isinstance(comms, dict):
        raise MapError(f"{origin}: comms: must be an object")
    codes = data.get("codes")
    if not isinstance(codes, dict) or not isinstance(codes.get("state"), dict):
        raise MapError(f"{origin}: codes.state: must be an object of state values")
    live = data.get("live_profile")
    return SigningMap(
        model=str(data.get("model", origin)),
        protocol=protocol,
        title=str(data.get("title", "")),
        live_profile=live if isinstance(live, str) else None,
        unit=_int(comms, "unit", f"{origin}: comms", 1, 247),
        timeout_s=_int(comms, "timeout_ms", f"{origin}: comms", 1, 60_000) / 1000,
        gap_s=_int(comms, "gap_ms", f"{origin}: comms", 0, 10_000) / 1000,
        max_read=_int(data, "max_read", origin, 1, 125),
        max_write=_int(data, "max_write", origin, 1, 123),
        areas=areas,
        codes=codes,
    )


def signing_models() -> list[str]:
    return sorted(p.stem for p in MAPS.glob("*.json"))


def load_signing_map(name_or_path: str) -> SigningMap:
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = MAPS / f"{name_or_path}.json"
        if not path.is_file():
            raise MapError(
                f"no signing meter model {name_or_path!r} (shipped: {', '.join(signing_models())})"
            )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MapError(f"{path}: cannot be read as JSON ({exc})") from None
    return parse_signing_map(data, path.name)
