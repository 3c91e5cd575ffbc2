"""The shipped sample config builds real-hardware drivers through the app's composition root.

Simulators stand where the sample's devices are: one RS485 line (a pty) carrying both meters at
the sample's unit addresses, and one Modbus TCP server per controller. Only the `port` values
are pointed at them; every other key is the sample's own, so a spelling the driver factory
does not accept fails here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from drivers.charger.controller_map import controller_spec
from drivers.modbus.endpoint import parse_port
from drivers.modbus.registermap import load_map
from drivers.modbus_sim.devices import SimulatedController, SimulatedMeter
from drivers.modbus_sim.model import ChargingModel
from drivers.modbus_sim.server import SimServer
from kiosk.config import DeviceConfig, StationConfig, load_config
from kiosk.devices import IecState
from ui.cli import SAMPLE_CONFIG
from ui.composition import assemble


@pytest.fixture
def sample() -> StationConfig:
    return load_config(SAMPLE_CONFIG)


def _unit(device: DeviceConfig) -> int:
    unit = device.settings["unit"]
    assert isinstance(unit, int)
    return unit


@pytest.fixture
def stand_ins(sample: StationConfig) -> Iterator[tuple[dict[str, str], dict[str, ChargingModel]]]:
    """Simulators for the sample's devices; returns configured port -> simulator port."""
    servers: list[SimServer] = []
    ports: dict[str, str] = {}
    cars: dict[str, ChargingModel] = {}
    try:
        meters_by_port: dict[str, list[SimulatedMeter]] = {}
        for c in sample.connectors:
            cars[c.id] = ChargingModel()
            meter = sample.meters[c.meter]
            assert meter.model is not None
            sim = SimulatedMeter(load_map(meter.model), cars[c.id], _unit(meter))
            meters_by_port.setdefault(str(meter.settings["port"]), []).append(sim)
        for port, sims in meters_by_port.items():
            kind = "tcp" if port.startswith("tcp://") else "pty"
            servers.append(SimServer(sims, kind))
            ports[port] = servers[-1].url
        for c in sample.connectors:
            ctl = sample.controllers[c.controller]
            assert ctl.model is not None
            spec = controller_spec(load_map(ctl.model))
            servers.append(SimServer([SimulatedController(spec, cars[c.id], _unit(ctl))], "tcp"))
            ports[str(ctl.settings["port"])] = servers[-1].url
        yield ports, cars
    finally:
        for server in servers:
            server.close()


def _as_real(device: DeviceConfig, ports: dict[str, str]) -> DeviceConfig:
    settings = {**device.settings, "port": ports[str(device.settings["port"])]}
    return replace(device, hardware="real", settings=settings)


def test_every_sample_port_parses(sample: StationConfig) -> None:
    devices = [*sample.meters.values(), *sample.controllers.values()]
    for device in devices:
        assert parse_port(str(device.settings["port"]))


def test_the_sample_builds_real_drivers_that_reach_its_devices(
    tmp_path: Path,
    sample: StationConfig,
    stand_ins: tuple[dict[str, str], dict[str, ChargingModel]],
) -> None:
    ports, cars = stand_ins
    config = replace(
        sample,
        terminal=None,  # the ZVT path has its own tests; this one is about the Modbus keys
        backend=None,
        journal_path=tmp_path / "journal.db",
        meters={k: _as_real(v, ports) for k, v in sample.meters.items()},
        controllers={k: _as_real(v, ports) for k, v in sample.controllers.items()},
    )
    cars["2"].plug_in(0.5)  # the second connector's car only: each driver reaches its own unit
    asm = assemble(config, simulate=False, state_dir=tmp_path / "state")
    try:
        assert asm.simulator is None
        devices = asm.runtime.devices
        for cid in ("1", "2"):
            reading = devices.meters[cid].read()
            assert reading.energy_import_wh >= 0
        assert devices.controllers["1"].status().state is IecState.A
        assert devices.controllers["2"].status().state is IecState.B
        # Both meters share the sample's RS485 bus, so they share one owner thread.
        assert devices.owner_name("meter:1") == devices.owner_name("meter:2") == "bus:rs485-1"
    finally:
        asm.stop()


def test_the_samples_unit_ids_are_the_ones_its_devices_answer_on(sample: StationConfig) -> None:
    """A controller has its own TCP port: its unit id is its model's (and the simulator's)
    default, e.g. 255 for phoenix-ev-eth. Meters sharing one bus need distinct ids."""
    for name, ctl in sample.controllers.items():
        assert ctl.model is not None
        assert _unit(ctl) == load_map(ctl.model).comms.unit, f"[controllers.{name}] unit"
    by_port: dict[str, list[int]] = {}
    for meter in sample.meters.values():
        by_port.setdefault(str(meter.settings["port"]), []).append(_unit(meter))
    for port, units in by_port.items():
        assert len(units) == len(set(units)), f"meters on {port} share a unit id: {units}"


def test_the_documentation_screens_show_the_sample_station_and_tariff() -> None:
    from ui.sample_preview import sample_screens

    screens = sample_screens()
    idle = screens["idle"]
    assert idle.station_name == "Marktplatz Süd" and idle.locales == ("de", "en")
    assert [t.label for t in idle.connectors] == ["Links", "Rechts"]
    assert dict(idle.connectors[0].labels)["en"] == "Left"
    price = screens["price"].focus
    assert price is not None and price.hold is not None and price.hold.minor == 5000
    assert [line.price_incl_vat for line in price.price_lines][:2] == [
        Decimal("0.69"),
        Decimal("0.59"),
    ]
    qr = screens["qr"].focus
    assert qr is not None and qr.payment_link is not None
    assert (qr.payment_link.expires_at - idle.published_at).total_seconds() == 15 * 60 - 13
    receipt = screens["receipt"].focus
    assert receipt is not None and receipt.receipt is not None
    assert receipt.receipt.total.minor == 1136  # 18.42 kWh at 0.59 + 0.49, rounded once
