"""The station's configuration, validated: what the runtime and the drivers are built from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Literal

from kiosk.session.model import Policy

Hardware = Literal["real", "simulated"]


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """One device. `settings` (port, profile, unit id, ...) is validated by its driver."""

    name: str  # "terminal", "meters.left", "controllers.left"
    hardware: Hardware
    model: str | None = None
    bus: str | None = None  # devices naming the same bus share one owner thread
    settings: Mapping[str, object] = field(default_factory=dict)
    line: int | None = None  # where the device's table starts, for the driver's own errors


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    id: str
    label: str
    type: str
    max_kw: Decimal
    tariff_path: Path
    hold_minor: int
    meter: str  # key into StationConfig.meters
    controller: str  # key into StationConfig.controllers
    # `label = { de = "Links", en = "Left" }`: the label per language; `label` is the first
    # configured locale's (or the only one given).
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BackendConfig:
    url: str
    station_id: str
    token: str
    hardware: Hardware
    timeout_s: float = 10.0
    ca_bundle: Path | None = None  # CAs to trust for the backend's TLS; None: the system's
    receipt_secret: str | None = None  # signs receipt links shown before the report arrived

    def __repr__(self) -> str:  # the token and the secret stay out of logs
        return f"BackendConfig(url={self.url!r}, station_id={self.station_id!r}, token=***)"


OcppVersion = Literal["2.1", "2.0.1", "1.6"]
OCPP_VERSIONS: tuple[OcppVersion, ...] = ("2.1", "2.0.1", "1.6")


@dataclass(frozen=True, slots=True)
class OcppConfig:
    """The link to the operator's CSMS (section [ocpp]); absent or `enabled = false`: none."""

    url: str  # ws:// or wss://, without the station identity
    identity: str  # the charging station's identity: the last path segment of the URL
    password: str | None  # HTTP basic auth (security profile 1/2); read from a file or env
    versions: tuple[OcppVersion, ...] = OCPP_VERSIONS  # offered in this order as subprotocols
    ca_bundle: Path | None = None  # CAs to trust for wss://; None: the system's
    meter_interval_s: int = 60  # TransactionEvent Updated with meter values, while charging
    evse_ids: Mapping[str, int] = field(default_factory=dict)  # connector id -> EVSE id

    def __repr__(self) -> str:  # the password stays out of logs
        return f"OcppConfig(url={self.url!r}, identity={self.identity!r}, password=***)"

    @property
    def endpoint(self) -> str:
        return f"{self.url}/{self.identity}"


@dataclass(frozen=True, slots=True)
class StationConfig:
    source: Path
    name: str
    locales: tuple[str, ...]
    timezone: str
    journal_path: Path
    policy: Policy
    connectors: tuple[ConnectorConfig, ...]
    terminal: DeviceConfig | None
    meters: Mapping[str, DeviceConfig]
    controllers: Mapping[str, DeviceConfig]
    backend: BackendConfig | None
    end_of_day: time | None = None  # local time of the terminal's daily end-of-day; None: off
    ocpp: OcppConfig | None = None  # the CSMS link; None: stand-alone

    def connector(self, connector_id: str) -> ConnectorConfig:
        return next(c for c in self.connectors if c.id == connector_id)
