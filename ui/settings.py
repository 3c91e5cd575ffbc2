"""The touchscreen's own settings: a `ui.toml` beside the station config (all keys optional).

kiosk = true            # full-screen, frameless; false: a window for development
hide_cursor = true      # touch panels: no mouse pointer
dpi = 133               # the panel's real pixel density (7" 800x480 is about 133)
service_pin_hash = "pbkdf2_sha256$200000$<salt hex>$<hash hex>"   # evkiosk run --hash-pin
idle_reset_s = 60       # idle screen: back to the default language and text size after this
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PIN_ALGORITHM = "pbkdf2_sha256"
PIN_ITERATIONS = 200_000


class SettingsError(ValueError):
    """ui.toml is broken; the message names the key and why."""


@dataclass(frozen=True)
class UiSettings:
    kiosk: bool = False
    hide_cursor: bool = False
    dpi: float | None = None  # None: ask the screen
    service_pin_hash: str | None = None
    idle_reset_s: int = 60


_TYPES: dict[str, tuple[type, ...]] = {
    "kiosk": (bool,),
    "hide_cursor": (bool,),
    "dpi": (int, float),
    "service_pin_hash": (str,),
    "idle_reset_s": (int,),
}


def parse_settings(data: dict[str, Any], source: str = "ui.toml") -> UiSettings:
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _TYPES:
            known = ", ".join(sorted(_TYPES))
            raise SettingsError(f"{source}: unknown key '{key}' (expected one of: {known})")
        if isinstance(value, bool) and bool not in _TYPES[key]:
            raise SettingsError(f"{source}: '{key}' must be a number, not true/false")
        if not isinstance(value, _TYPES[key]):
            kinds = " or ".join(t.__name__ for t in _TYPES[key])
            raise SettingsError(f"{source}: '{key}' must be {kinds}, got {value!r}")
        values[key] = value
    if "dpi" in values and not 50 <= float(values["dpi"]) <= 600:
        raise SettingsError(f"{source}: 'dpi' must be between 50 and 600, got {values['dpi']}")
    if "service_pin_hash" in values:
        _split_hash(values["service_pin_hash"], source)
    return UiSettings(**values)


def load_settings(path: Path | None) -> UiSettings:
    if path is None or not path.exists():
        return UiSettings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from exc
    return parse_settings(data, str(path))


def _split_hash(stored: str, source: str = "ui.toml") -> tuple[int, bytes, bytes]:
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != PIN_ALGORITHM:
        raise SettingsError(
            f"{source}: 'service_pin_hash' must look like {PIN_ALGORITHM}$ITERATIONS$SALT$HASH"
        )
    try:
        return int(parts[1]), bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
    except ValueError as exc:
        raise SettingsError(f"{source}: 'service_pin_hash' has a bad number or hex part") from exc


def hash_pin(pin: str, iterations: int = PIN_ITERATIONS, salt: bytes | None = None) -> str:
    import hashlib  # noqa: PLC0415 (OpenSSL's hashlib, ~4 ms of CPU: when a PIN is set or checked)
    import secrets  # noqa: PLC0415

    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"{PIN_ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str | None) -> bool:
    """False for a wrong PIN and when no PIN is configured (the menu stays locked)."""
    if not stored:
        return False
    import hashlib  # noqa: PLC0415 (see hash_pin)
    import hmac  # noqa: PLC0415

    iterations, salt, expected = _split_hash(stored)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return hmac.compare_digest(digest, expected)
