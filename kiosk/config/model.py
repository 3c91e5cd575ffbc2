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

    def connector(self, connector_id: str) -> ConnectorConfig:
        return next(c for c in self.connectors if c.id == connector_id)
