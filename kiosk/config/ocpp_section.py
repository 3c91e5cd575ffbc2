"""The [ocpp] section: the station's link to the operator's CSMS. Absent means stand-alone.

[ocpp]
url = "wss://csms.example.com/ocpp"   # the station identity is appended as the last segment
identity = "EVK-0001"
password_file = "csms-password"       # or password_env = "EVKIOSK_CSMS_PASSWORD"
versions = ["2.1", "2.0.1", "1.6"]    # offered in this order, the CSMS picks one (default: all;
                                      # "ocpp2.1" etc., the subprotocol names, also do)
ca_bundle = "csms-ca.pem"             # wss:// only; default: the system's CAs
meter_interval_s = 60
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from kiosk.config.lines import Path as KeyPath
from kiosk.config.model import OCPP_VERSIONS, ConnectorConfig, OcppConfig, OcppVersion

if TYPE_CHECKING:
    from kiosk.config.load import _Reader

KEYS = {
    "enabled",
    "url",
    "identity",
    "password_file",
    "password_env",
    "versions",
    "ca_bundle",
    "meter_interval_s",
}
# OCPP's identity: printable, no "/" (it is a URL path segment); at most 48 characters.
_IDENTITY = re.compile(r"[A-Za-z0-9*\-_=:+|@.]{1,48}")
_PATH: KeyPath = ("ocpp",)


def ws_url(_: KeyPath, value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^wss?://[^\s/]+(/\S*)?$", value):
        raise ValueError(f"must be a ws:// or wss:// URL, got {value!r}")
    return value.rstrip("/")


def identity(_: KeyPath, value: Any) -> str:
    if not isinstance(value, str) or not _IDENTITY.fullmatch(value):
        raise ValueError(
            "must be 1 to 48 letters, digits or *-_=:+|@. (it becomes the URL's last segment), "
            f"got {value!r}"
        )
    return value


def versions(_: KeyPath, value: Any) -> tuple[OcppVersion, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(f'must be a non-empty list like ["2.1", "1.6"], got {value!r}')
    value = [_bare(item) for item in value]
    for item in value:
        if item not in OCPP_VERSIONS:
            raise ValueError(f"{item!r} is not one of {', '.join(OCPP_VERSIONS)}")
    if len(set(value)) != len(value):
        raise ValueError(f"names a version twice: {value!r}")
    return tuple(cast(list[OcppVersion], value))


def _bare(item: object) -> object:
    """ "ocpp1.6" (the subprotocol's name) is "1.6"."""
    return item[4:] if isinstance(item, str) and item.startswith("ocpp") else item


def enabled(_: KeyPath, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


def read_section(
    r: _Reader, raw: Any, connectors: tuple[ConnectorConfig, ...]
) -> OcppConfig | None:
    from kiosk.config.load import file_name, positive_int, table, text  # noqa: PLC0415

    try:
        tbl = table(_PATH, raw)
    except ValueError as exc:
        r.problem(_PATH, str(exc))
        return None
    r.unknown(tbl, _PATH, KEYS)
    on = r.get(tbl, _PATH, "enabled", enabled, default=True)
    url = r.get(tbl, _PATH, "url", ws_url)
    ident = r.get(tbl, _PATH, "identity", identity)
    offered = r.get(tbl, _PATH, "versions", versions, default=OCPP_VERSIONS)
    interval = r.get(tbl, _PATH, "meter_interval_s", positive_int, default=60)
    password = _password(r, tbl, file_name, text)
    ca = r.get(tbl, _PATH, "ca_bundle", file_name, default=None)
    ca_bundle = None if ca is None else (r.source.parent / ca).resolve()
    if ca_bundle is not None:
        if not ca_bundle.is_file():
            r.problem((*_PATH, "ca_bundle"), f"no such file: {ca_bundle}")
        elif url is not None and not url.startswith("wss://"):
            r.problem((*_PATH, "ca_bundle"), "is only used with a wss:// url")
    if not on or None in (url, ident, offered, interval):
        return None
    assert url and ident and offered and interval
    evses = {c.id: number for number, c in enumerate(connectors, start=1)}
    return OcppConfig(url, ident, password, offered, ca_bundle, interval, evses)


def _password(r: _Reader, tbl: dict[str, Any], file_name: Any, text: Any) -> str | None:
    """From a file (its first line) or an environment variable: never in the config itself."""
    if "password_file" in tbl and "password_env" in tbl:
        r.problem((*_PATH, "password_env"), "give password_file or password_env, not both")
        return None
    if "password_file" in tbl:
        name = r.get(tbl, _PATH, "password_file", file_name)
        if name is None:
            return None
        path = (r.source.parent / name).resolve()
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            r.problem((*_PATH, "password_file"), f"cannot read {path}: {exc}")
            return None
        secret = lines[0].strip() if lines else ""
        if not secret:
            r.problem((*_PATH, "password_file"), f"{path} is empty")
            return None
        return secret
    if "password_env" in tbl:
        variable = r.get(tbl, _PATH, "password_env", text)
        if variable is None:
            return None
        secret = os.environ.get(variable, "").strip()
        if not secret:
            r.problem((*_PATH, "password_env"), f"environment variable {variable} is not set")
            return None
        return secret
    return None
