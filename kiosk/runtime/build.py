"""Assemble a runtime from the station's config and the devices the composition root built."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from kiosk.config import StationConfig
from kiosk.devices import Backend, CardTerminal, ChargeController, EnergyMeter
from kiosk.journal.store import Journal
from kiosk.runtime.clock import Clock, SystemClock
from kiosk.runtime.core import Runtime
from kiosk.runtime.costs import TariffCostModel
from kiosk.runtime.devices import SigningSetup, StationDevices
from kiosk.runtime.offers import offer_for
from kiosk.runtime.starting import configured_station
from kiosk.tariff import load_tariff


def station_devices(
    config: StationConfig,
    terminal: CardTerminal | None,
    backend: Backend | None,
    meters: dict[str, EnergyMeter],
    controllers: dict[str, ChargeController],
    *,
    signing: dict[str, SigningSetup] | None = None,
) -> StationDevices:
    """meters/controllers by connector id. Devices that name the same `bus` (or the same
    configured device) share one owner thread."""
    buses: dict[str, str] = {}
    for c in config.connectors:
        meter, controller = config.meters[c.meter], config.controllers[c.controller]
        buses[f"meter:{c.id}"] = f"bus:{meter.bus}" if meter.bus else f"meter:{c.meter}"
        buses[f"controller:{c.id}"] = (
            f"bus:{controller.bus}" if controller.bus else f"controller:{c.controller}"
        )
    return StationDevices(terminal, backend, meters, controllers, buses, signing or {})


def build_runtime(
    config: StationConfig,
    devices: StationDevices,
    clock: Clock | None = None,
    **options: Any,
) -> Runtime:
    """Open the journal, freeze each connector's offer from its tariff file, wire it up.
    `options` go to the Runtime (poll periods, outbox backoff)."""
    offers = {c.id: offer_for(load_tariff(c.tariff_path), c.hold_minor) for c in config.connectors}
    station = configured_station(config, signing=devices.signing)
    return Runtime(
        station=station,
        offers=offers,
        journal=Journal.open(config.journal_path),
        devices=devices,
        clock=clock or SystemClock(),
        costs=TariffCostModel(ZoneInfo(config.timezone)),
        name=config.name,
        locales=config.locales,
        **{**_defaults(config), **options},
    )


def _defaults(config: StationConfig) -> dict[str, Any]:
    """Runtime options that come from the config (a caller's options win)."""
    backend = config.backend
    return {
        "end_of_day": config.end_of_day,
        "zone": ZoneInfo(config.timezone),
        "receipt_base_url": None if backend is None else backend.url,
        "receipt_secret": None if backend is None else backend.receipt_secret,
    }
