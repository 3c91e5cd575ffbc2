"""Read and validate the station's TOML file. Every mistake names its key and its line.

All problems are collected and reported together, so an installer fixes the file in one pass.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiosk.config.lines import Path as KeyPath
from kiosk.config.lines import key_lines, line_of
from kiosk.config.model import (
    BackendConfig,
    ConnectorConfig,
    DeviceConfig,
    Hardware,
    StationConfig,
)
from kiosk.session.model import Policy
from kiosk.tariff import load_tariff

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    key: str
    line: int | None
    message: str


class ConfigError(ValueError):
    def __init__(self, source: Path, problems: list[ConfigProblem]) -> None:
        self.source = source
        self.problems = problems
        text = "\n".join(
            f"{source}:{p.line if p.line is not None else '?'}: {p.key}: {p.message}"
            for p in problems
        )
        super().__init__(text)


_MISSING = object()
_DEVICE_KEYS = {"hardware", "model", "bus"}
_TIMEOUTS = {  # config key -> Policy field, in seconds
    "price_confirm_s": "price_confirm_timeout",
    "card_wait_s": "card_wait_timeout",
    "link_grace_s": "link_grace",
    "plug_in_s": "plug_timeout",
    "plug_in_extension_s": "plug_extension",
    "start_s": "start_timeout",
    "vehicle_paused_s": "suspended_timeout",
    "meter_stale_s": "meter_stale_after",
    "stopping_s": "stopping_timeout",
    "settle_retry_s": "settle_retry",
    "receipt_s": "receipt_timeout",
}


class _Reader:
    def __init__(self, source: Path, text: str) -> None:
        self.source = source
        self.lines = key_lines(text)
        self.problems: list[ConfigProblem] = []

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.append(ConfigProblem(_name(path), line_of(self.lines, path), message))

    def get(
        self,
        table: dict[str, Any],
        path: KeyPath,
        key: str,
        kind: Callable[[KeyPath, Any], T],
        default: Any = _MISSING,
    ) -> T | None:
        full = (*path, key)
        if key not in table:
            if default is _MISSING:
                self.problem(path if path else full, f"missing required key '{key}'")
                return None
            return cast(T, default)
        try:
            return kind(full, table[key])
        except ValueError as exc:
            self.problem(full, str(exc))
            return None

    def unknown(self, table: dict[str, Any], path: KeyPath, known: set[str]) -> None:
        for key in table:
            if key not in known:
                self.problem(
                    (*path, key), f"unknown key (expected one of: {', '.join(sorted(known))})"
                )


def _name(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


# ---------------------------------------------------------------- value kinds


def text(_: KeyPath, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty string, got {_show(value)}")
    return value


# Far above any hold or margin (10 million in major units of a 2-decimal currency) and the
# backend's largest amount; beyond it a number is a typo, not a setting.
MAX_WHOLE = 1_000_000_000
MAX_SECONDS = 86_400  # every timeout is well under a day
# Linux NAME_MAX and PATH_MAX: longer names cannot be opened, only fail later with OSError.
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096


def label_texts(_: KeyPath, value: Any) -> dict[str, str]:
    """A label: one text, or a table of language code -> text ({ de = "Links", en = "Left" })."""
    if isinstance(value, dict):
        if not value:
            raise ValueError("must name at least one language")
        for code, item in value.items():
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Z]{2})?", code):
                raise ValueError(f'{code!r} is not a language code like "de" or "en"')
            if not isinstance(item, str) or not item.strip():
                raise ValueError(f"{code}: must be a non-empty string, got {item!r}")
        return dict(value)
    return {"": text(_, value)}


def positive_int(_: KeyPath, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_WHOLE:
        raise ValueError(f"must be a whole number from 1 to {MAX_WHOLE:_}, got {_show(value)}")
    return value


def non_negative_int(_: KeyPath, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WHOLE:
        raise ValueError(f"must be a whole number from 0 to {MAX_WHOLE:_}, got {_show(value)}")
    return value


def percent(_: KeyPath, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 100:
        raise ValueError(f"must be a whole percentage from 0 to 99, got {value!r}")
    return value


def seconds(_: KeyPath, value: Any) -> timedelta:
    # `not 0 < value <= MAX` also refuses nan (every comparison with nan is false) and inf.
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= MAX_SECONDS
    ):
        raise ValueError(
            f"must be a number of seconds above 0 and at most {MAX_SECONDS}, got {_show(value)}"
        )
    return timedelta(seconds=value)


def file_name(_: KeyPath, value: Any) -> str:
    """A path the operating system can open: no NUL byte, no over-long name."""
    name = text(_, value)
    if "\0" in name:
        raise ValueError(f"must not contain a NUL byte, got {_show(name)}")
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) > MAX_PATH_BYTES or any(
        len(part) > MAX_NAME_BYTES for part in encoded.split(b"/")
    ):
        raise ValueError(
            f"is too long for a file name (at most {MAX_NAME_BYTES} bytes per name, "
            f"{MAX_PATH_BYTES} in all), got {_show(name)}"
        )
    return name


def _show(value: Any) -> str:
    """The value as written, shortened: a 10,000-character value must not fill the report."""
    shown = repr(value)
    return shown if len(shown) <= 60 else f"{shown[:40]}...{shown[-12:]} ({len(shown)} chars)"


def kilowatts(_: KeyPath, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be a number of kW, got {value!r}")
    try:
        kw = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"must be a number of kW, got {value!r}") from None
    if not kw.is_finite() or kw <= 0 or kw > 1000:
        raise ValueError(f"must be between 0 and 1000 kW, got {value!r}")
    return kw


def hardware(_: KeyPath, value: Any) -> Hardware:
    if value not in ("real", "simulated"):
        raise ValueError(f'must be "real" or "simulated", got {value!r}')
    return cast(Hardware, value)


def locales(_: KeyPath, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"must be a non-empty list of language codes, got {value!r}")
    for item in value:
        if not isinstance(item, str) or not re.fullmatch(r"[a-z]{2,3}(-[A-Z]{2})?", item):
            raise ValueError(f'{item!r} is not a language code like "de" or "en-GB"')
    return tuple(value)


def timezone(_: KeyPath, value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'{value!r} is not an IANA time zone like "Europe/Berlin"') from None
    return str(value)


def url(_: KeyPath, value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def clock_time(_: KeyPath, value: Any) -> time:
    if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f'must be a local time "HH:MM" (24 h), got {value!r}')
    return time(int(value[:2]), int(value[3:]))


def table(_: KeyPath, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"must be a table, got {value!r}")
    return value


# ---------------------------------------------------------------- the file


def load_config(path: Path | str) -> StationConfig:
    """Parse and validate; raises ConfigError listing every problem with its line."""
    source = Path(path)
    try:
        raw_text = source.read_text(encoding="utf-8")
    except OSError as exc:
        problem = ConfigProblem("(file)", None, f"cannot read: {exc.strerror}")
        raise ConfigError(source, [problem]) from None
    except ValueError:  # a NUL byte in the path
        problem = ConfigProblem("(file)", None, "cannot read: the path contains a NUL byte")
        raise ConfigError(source, [problem]) from None
    except UnicodeDecodeError as exc:
        problem = ConfigProblem("(file)", None, f"not UTF-8 text: {exc}")
        raise ConfigError(source, [problem]) from None
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise ConfigError(source, [ConfigProblem("(syntax)", line, str(exc))]) from None
    r = _Reader(source, raw_text)
    config = _station(r, data)
    if r.problems or config is None:
        raise ConfigError(source, r.problems)
    return config


def _station(r: _Reader, data: dict[str, Any]) -> StationConfig | None:
    r.unknown(
        data,
        (),
        {
            "station",
            "payment",
            "timeouts",
            "terminal",
            "backend",
            "connector",
            "meters",
            "controllers",
            "ocpp",
        },
    )
    station = r.get(data, (), "station", table) or {}
    r.unknown(station, ("station",), {"name", "locales", "timezone", "journal", "end_of_day"})
    name = r.get(station, ("station",), "name", text)
    langs = r.get(station, ("station",), "locales", locales, default=("en",))
    tz = r.get(station, ("station",), "timezone", timezone, default="UTC")
    journal = r.get(station, ("station",), "journal", file_name, default="journal.db")
    end_of_day = r.get(station, ("station",), "end_of_day", clock_time, default=None)
    policy, default_hold = _policy(r, data)
    meters = _devices(r, data, "meters")
    controllers = _devices(r, data, "controllers")
    terminal = (
        _device(r, data["terminal"], ("terminal",), "terminal") if "terminal" in data else None
    )
    backend = _backend(r, data["backend"]) if "backend" in data else None
    connectors = _connectors(r, data, default_hold, meters, controllers, langs=langs or ("en",))
    ocpp = None
    if "ocpp" in data:
        from kiosk.config.ocpp_section import read_section  # noqa: PLC0415 (imports this module)

        ocpp = read_section(r, data["ocpp"], connectors)
    if r.problems or name is None or langs is None or tz is None or journal is None:
        return None
    base = r.source.parent
    return StationConfig(
        source=r.source,
        name=name,
        locales=langs,
        timezone=tz,
        journal_path=(base / journal).resolve(),
        policy=policy,
        connectors=connectors,
        terminal=terminal,
        meters=meters,
        controllers=controllers,
        backend=backend,
        end_of_day=end_of_day,
        ocpp=ocpp,
    )


def _policy(r: _Reader, data: dict[str, Any]) -> tuple[Policy, int]:
    payment = r.get(data, (), "payment", table, default={}) or {}
    path: KeyPath = ("payment",)
    r.unknown(
        payment,
        path,
        {"hold_minor", "cap_margin_minor", "cap_margin_percent", "max_plug_in_extensions"},
    )
    defaults = Policy()
    hold = r.get(payment, path, "hold_minor", positive_int, default=5000) or 5000
    margin = r.get(
        payment, path, "cap_margin_minor", non_negative_int, default=defaults.cap_margin_minor
    )
    share = r.get(payment, path, "cap_margin_percent", percent, default=defaults.cap_margin_percent)
    extensions = r.get(
        payment, path, "max_plug_in_extensions", non_negative_int, default=defaults.max_extensions
    )
    timeouts = r.get(data, (), "timeouts", table, default={}) or {}
    r.unknown(timeouts, ("timeouts",), set(_TIMEOUTS))
    values: dict[str, Any] = {}
    for key, field_name in _TIMEOUTS.items():
        value = r.get(timeouts, ("timeouts",), key, seconds, default=getattr(defaults, field_name))
        if value is not None:
            values[field_name] = value
    policy = Policy(
        cap_margin_minor=margin if margin is not None else defaults.cap_margin_minor,
        cap_margin_percent=share if share is not None else defaults.cap_margin_percent,
        max_extensions=extensions if extensions is not None else defaults.max_extensions,
        **values,
    )
    if policy.cap_minor(hold) <= 0:
        r.problem(
            ("payment", "hold_minor"),
            f"hold {hold} leaves nothing to charge after the cost-cap margin",
        )
    return policy, hold


def _device(r: _Reader, raw: Any, path: KeyPath, name: str) -> DeviceConfig | None:
    try:
        tbl = table(path, raw)
    except ValueError as exc:
        r.problem(path, str(exc))
        return None
    hw = r.get(tbl, path, "hardware", hardware)
    model = r.get(tbl, path, "model", text, default=None)
    bus = r.get(tbl, path, "bus", text, default=None)
    settings = {k: v for k, v in tbl.items() if k not in _DEVICE_KEYS}
    if hw is None:
        return None
    return DeviceConfig(name, hw, model, bus, settings, line_of(r.lines, path))


def _devices(r: _Reader, data: dict[str, Any], kind: str) -> dict[str, DeviceConfig]:
    raw = r.get(data, (), kind, table, default={}) or {}
    out = {}
    for key, value in raw.items():
        device = _device(r, value, (kind, key), f"{kind}.{key}")
        if device is not None:
            out[key] = device
    return out


def _backend(r: _Reader, raw: Any) -> BackendConfig | None:
    path: KeyPath = ("backend",)
    try:
        tbl = table(path, raw)
    except ValueError as exc:
        r.problem(path, str(exc))
        return None
    r.unknown(
        tbl,
        path,
        {"url", "station_id", "token", "hardware", "timeout_s", "ca_bundle", "receipt_secret"},
    )
    link = r.get(tbl, path, "url", url)
    station_id = r.get(tbl, path, "station_id", text)
    token = r.get(tbl, path, "token", text)
    hw = r.get(tbl, path, "hardware", hardware, default="real")
    timeout = r.get(tbl, path, "timeout_s", seconds, default=timedelta(seconds=10))
    ca = r.get(tbl, path, "ca_bundle", file_name, default=None)
    ca_bundle = None if ca is None else (r.source.parent / ca).resolve()
    if ca_bundle is not None and not _is_file(ca_bundle):
        r.problem((*path, "ca_bundle"), f"no such file: {ca_bundle}")
    secret = r.get(tbl, path, "receipt_secret", text, default=None)
    if secret is not None and len(secret) < 16:
        r.problem((*path, "receipt_secret"), "must be at least 16 characters (it signs URLs)")
    if None in (link, station_id, token, hw, timeout):
        return None
    assert link and station_id and token and hw and timeout
    return BackendConfig(link, station_id, token, hw, timeout.total_seconds(), ca_bundle, secret)


def _connectors(
    r: _Reader,
    data: dict[str, Any],
    default_hold: int,
    meters: dict[str, DeviceConfig],
    controllers: dict[str, DeviceConfig],
    *,
    langs: tuple[str, ...],
) -> tuple[ConnectorConfig, ...]:
    raw = data.get("connector")
    if not isinstance(raw, list) or not raw:
        r.problem(("connector",), "at least one [[connector]] table is required")
        return ()
    out: list[ConnectorConfig] = []
    seen: set[str] = set()
    known = {"id", "label", "type", "max_kw", "tariff", "hold_minor", "meter", "controller"}
    for i, item in enumerate(raw):
        path: KeyPath = ("connector", i)
        if not isinstance(item, dict):
            r.problem(path, "must be a table")
            continue
        r.unknown(item, path, known)
        cid = r.get(item, path, "id", text)
        if cid is not None and cid in seen:
            r.problem((*path, "id"), f"connector id {cid!r} is used twice")
        seen.add(cid or "")
        texts = r.get(item, path, "label", label_texts, default={"": cid or ""}) or {}
        first = next((texts[code] for code in langs if code in texts), None)
        label = texts.get("", first or next(iter(texts.values()), cid or ""))
        per_language = {code: t for code, t in texts.items() if code}
        ctype = r.get(item, path, "type", text)
        max_kw = r.get(item, path, "max_kw", kilowatts)
        tariff = r.get(item, path, "tariff", file_name)
        hold = r.get(item, path, "hold_minor", positive_int, default=default_hold)
        meter = r.get(item, path, "meter", text)
        controller = r.get(item, path, "controller", text)
        # A device table that exists but is wrong is reported there, not here again.
        declared_meters = _keys(data, "meters")
        declared_controllers = _keys(data, "controllers")
        if meter is not None and meter not in meters and meter not in declared_meters:
            r.problem((*path, "meter"), f"no [meters.{meter}] table is configured")
        if (
            controller is not None
            and controller not in controllers
            and controller not in declared_controllers
        ):
            r.problem((*path, "controller"), f"no [controllers.{controller}] table is configured")
        tariff_path = None
        if tariff is not None:
            tariff_path = (r.source.parent / tariff).resolve()
            problem = _check_tariff(tariff_path)
            if problem:
                r.problem((*path, "tariff"), problem)
        if None in (cid, label, ctype, max_kw, tariff_path, hold, meter, controller):
            continue
        assert cid and ctype and max_kw and tariff_path and hold and meter and controller
        out.append(
            ConnectorConfig(
                cid, label or cid, ctype, max_kw, tariff_path, hold, meter, controller, per_language
            )
        )
    return tuple(out)


def _keys(data: dict[str, Any], table_name: str) -> set[str]:
    value = data.get(table_name)
    return set(value) if isinstance(value, dict) else set()


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name the system refuses (too long with its folder)
        return False


def _check_tariff(path: Path) -> str | None:
    if not _is_file(path):
        return f"tariff file {path} does not exist"
    try:  # the engine validates the OCPI content itself
        load_tariff(path)
    except Exception as exc:
        return f"tariff file {path}: {exc}"
    return None
