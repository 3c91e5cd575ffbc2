"""The dynamic QR code of OCPP 2.1 C25 (WebPaymentsCtrlr): a URL from the CSMS's template with
the station, the EVSE and a time-based one-time password the CSMS checks.

The one-time password is OCPP's "TOTP algorithm, version 1", not RFC 6238's: HMAC-SHA256 of the
number of the current `ValidityTime` interval since the epoch (8 bytes, big-endian) keyed with
the UTF-8 `SharedSecret`; from the offset in the low 4 bits of the hash's last byte, `Length`
hash bytes are each mapped to one of 62 characters (0-9 a-z A-Z). A TOTP library (RFC 6238:
SHA-1, decimal digits by dynamic truncation) computes another code, so the ten lines are here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

TOTP_VERSION = "v1"
_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PLACEHOLDER = re.compile(r"\{([A-Za-z]+)\}")


def totp_v1(secret: str, length: int, validity_s: int, at: datetime) -> str:
    """The one-time password in force at `at`."""
    interval = int(at.astimezone(UTC).timestamp()) // validity_s
    digest = hmac.new(secret.encode(), interval.to_bytes(8, "big"), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    return "".join(_BASE62[digest[(offset + i) % len(digest)] % 62] for i in range(length))


def interval_end(validity_s: int, at: datetime) -> datetime:
    """When the password in force at `at` rolls over."""
    seconds = int(at.astimezone(UTC).timestamp())
    return datetime.fromtimestamp((seconds // validity_s + 1) * validity_s, UTC)


def fill_template(template: str, *, station: str, evse: int, totp: str) -> str:
    """The template's placeholders (names compared without case): `{chargingStationId}`,
    `{evse}`, `{totp}`, `{version}`. An unknown placeholder is left as it is."""
    values = {
        "chargingstationid": quote(station, safe=""),
        "evse": str(evse),
        "totp": quote(totp, safe=""),
        "version": TOTP_VERSION,
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1).lower(), m.group(0)), template)


@dataclass(frozen=True, slots=True)
class WebPaySettings:
    """WebPaymentsCtrlr as the CSMS set it; `ready` when a QR code can be shown."""

    enabled: bool = False
    url_template: str = ""
    shared_secret: str = ""
    length: int = 12
    validity_s: int = 30

    @property
    def ready(self) -> bool:
        return self.enabled and bool(self.url_template) and bool(self.shared_secret)

    def url(self, station: str, evse: int, at: datetime) -> tuple[str, datetime]:
        """The QR code's URL at `at`, and when it changes."""
        code = totp_v1(self.shared_secret, self.length, self.validity_s, at)
        filled = fill_template(self.url_template, station=station, evse=evse, totp=code)
        return filled, interval_end(self.validity_s, at)


def settings_from(values: dict[str, str]) -> WebPaySettings:
    """From the WebPaymentsCtrlr values in force (the device model checked them when set)."""

    def number(name: str, default: int) -> int:
        text = values.get(name, "")
        return int(text) if text.isdigit() else default

    return WebPaySettings(
        enabled=values.get("Enabled") == "true",
        url_template=values.get("URLTemplate", ""),
        shared_secret=values.get("SharedSecret", ""),
        length=number("Length", 12),
        validity_s=number("ValidityTime", 30),
    )
