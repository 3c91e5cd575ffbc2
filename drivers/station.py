"""A headless station: the runtime built from a config with real or simulated devices.

For tests, tools and the UI's composition root. Simulated devices speak their real protocols on
127.0.0.1 (the ZVT terminal simulator over TCP, one pymodbus meter and controller server per
connector with a charging model) and are reached through the same drivers a real station
uses. The backend is always the real HTTP client (drivers.backend_client); in simulated mode
the caller names the backend to talk to (a backend process it started).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.modbus.bus import BusRegistry
from drivers.modbus.factory import build_controller, build_meter
from drivers.modbus.registermap import RegisterMap, available_models, load_map
from drivers.ocmf_meter.setup import build_signing, signing_model, split_settings
from drivers.zvt.config import ZvtConfig, terminal_model_problem
from drivers.zvt.terminal import ZvtTerminal
from kiosk.config import StationConfig
from kiosk.devices import CardTerminal, ChargeController, EnergyMeter
from kiosk.runtime.build import build_runtime, station_devices
from kiosk.runtime.clock import Clock, SystemClock
from kiosk.runtime.core import Runtime
from kiosk.runtime.devices import SigningSetup

if TYPE_CHECKING:  # simulators, pymodbus server code and httpx load only when used
    from drivers.backend_client import HttpBackend
    from drivers.modbus_sim import SimStation
    from drivers.zvt_sim import TerminalSimulator

log = logging.getLogger(__name__)

SIM_METER = "sdm630"
SIM_CONTROLLER = "phoenix-ev-eth"


class StationError(ValueError):
    """The config cannot be assembled into a station; the message names the device and why."""


@dataclass
class BackendAccess:
    url: str
    token: str
    ca_bundle: Path | None = None


@dataclass
class HeadlessStation:
    runtime: Runtime
    terminal: CardTerminal | None
    backend: HttpBackend | None
    terminal_sim: TerminalSimulator | None = None
    sims: dict[str, SimStation] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def start(self, recover: bool = True) -> None:
        self.runtime.start(recover)

    def stop(self) -> None:
        self.runtime.stop()
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # closing one device must not keep the others open
                log.exception("closing %s failed", close)
        self.runtime.journal.close()


def _regmap(model: str | None, default: str, device: str, simulated: bool) -> RegisterMap:
    if model and model in available_models():
        return load_map(model)
    if simulated:
        return load_map(default)
    shipped = ", ".join(available_models())
    raise StationError(f"[{device}] model {model!r} has no register map (shipped: {shipped})")


@dataclass
class ModbusDevices:
    meters: dict[str, EnergyMeter]
    controllers: dict[str, ChargeController]
    sims: dict[str, SimStation]  # connector id -> its simulated meter and controller
    signing: dict[str, SigningSetup] = field(default_factory=dict)  # signing meters (OCMF)


def build_modbus_devices(
    config: StationConfig,
    *,
    simulate: bool,
    clock: Callable[[], float],
    wall: Callable[[], datetime],
    closers: list[Callable[[], None]],
) -> ModbusDevices:
    """Each connector's meter and controller through the driver factory, one bus per physical
    port (an RS485 line is shared). A simulated device is a simulator on its own port, reached
    through the same drivers. What must be closed is appended to `closers`."""
    devices = ModbusDevices({}, {}, {})
    registry = BusRegistry()
    closers.append(registry.close_all)
    for c in config.connectors:
        meter_cfg, ctl_cfg = config.meters[c.meter], config.controllers[c.controller]
        sim = simulate or meter_cfg.hardware == "simulated"
        meter_map = _regmap(meter_cfg.model, SIM_METER, meter_cfg.name, sim)
        ctl_map = _regmap(ctl_cfg.model, SIM_CONTROLLER, ctl_cfg.name, sim)
        meter_settings, signing = split_settings(meter_cfg.settings)
        ctl_settings = dict(ctl_cfg.settings)
        try:
            signed_model = signing_model(meter_cfg.name, signing)
        except ValueError as exc:
            raise StationError(str(exc)) from exc
        if sim:
            from drivers.modbus_sim import SimStation  # noqa: PLC0415 (simulated only)

            sim_station = SimStation.start(
                transport="tcp",
                meter_profile=None if signed_model else meter_map.model,
                controller_profile=ctl_map.model,
                clock=clock,
            )
            devices.sims[c.id] = sim_station
            closers.append(sim_station.close)
            if signed_model:
                _simulate_signing(sim_station, signed_model, wall, closers)
            assert sim_station.meter is not None and sim_station.controller is not None
            # The simulators stand where the configured devices would, on their own ports.
            meter_settings = {"port": sim_station.meter_port, "unit": sim_station.meter.unit}
            ctl_settings = {
                "port": sim_station.controller_port,
                "unit": sim_station.controller.unit,
            }
        try:
            devices.meters[c.id] = build_meter(
                meter_cfg.name, meter_map.model, meter_settings, registry, clock=clock, wall=wall
            )
            devices.controllers[c.id] = build_controller(
                ctl_cfg.name, ctl_map.model, ctl_settings, registry, clock=clock, wall=wall
            )
            if signed_model:
                link = devices.meters[c.id].link  # type: ignore[attr-defined]
                devices.signing[c.id] = build_signing(meter_cfg.name, signing, link, wall=wall)
        except ValueError as exc:
            raise StationError(str(exc)) from exc
    return devices


def _simulate_signing(
    sim_station: SimStation,
    model: str,
    wall: Callable[[], datetime],
    closers: list[Callable[[], None]],
) -> None:
    """The signing simulator stands where the meter would: live values and signed records."""
    from drivers.modbus_sim.server import SimServer  # noqa: PLC0415 (simulated only)
    from drivers.modbus_sim.signing import signing_meter  # noqa: PLC0415

    try:
        meter = signing_meter(model, sim_station.model, wall=wall)
    except (OSError, ValueError) as exc:
        raise StationError(f"signing = {model!r}: {exc}") from exc
    server = SimServer([meter], "tcp")
    closers.append(server.close)
    sim_station.meter = meter
    sim_station.meter_port = server.url


def assemble_station(
    config: StationConfig,
    *,
    simulate: bool,
    state_dir: Path,
    clock: Clock | None = None,
    backend: BackendAccess | None = None,
    zvt: Callable[[ZvtConfig], ZvtConfig] | None = None,
    **runtime_options: Any,
) -> HeadlessStation:
    """Build (not start) a station. `clock` drives the runtime, the meters' time stamps and
    the simulated cars, so a test moves all of them together. `backend` overrides the
    config's backend address (simulated mode: the backend process the caller started)."""
    clock = clock or SystemClock()
    state_dir.mkdir(parents=True, exist_ok=True)
    closers: list[Callable[[], None]] = []
    t0 = clock.now()

    def sim_seconds() -> float:
        return (clock.now() - t0).total_seconds()

    def wall() -> datetime:
        return clock.now().astimezone(UTC)

    station = HeadlessStation(runtime=None, terminal=None, backend=None)  # type: ignore[arg-type]
    try:
        if config.terminal is not None:
            if problem := terminal_model_problem(config.terminal.model):
                raise StationError(problem)
            if simulate or config.terminal.hardware == "simulated":
                from drivers.zvt_sim import Delays, TerminalSimulator  # noqa: PLC0415

                station.terminal_sim = TerminalSimulator.start_tcp(
                    state_file=state_dir / "simulated-terminal.json", delays=Delays.zero()
                )
                closers.append(station.terminal_sim.stop)
                port = station.terminal_sim.address
            else:
                if "port" not in config.terminal.settings:
                    raise StationError("[terminal] needs 'port' for a real terminal")
                port = str(config.terminal.settings["port"])
            zvt_config = ZvtConfig(
                port=port, password=str(config.terminal.settings.get("password", "000000"))
            )
            terminal = ZvtTerminal(zvt(zvt_config) if zvt else zvt_config)
            closers.append(terminal.close)
            station.terminal = terminal

        modbus = build_modbus_devices(
            config, simulate=simulate, clock=sim_seconds, wall=wall, closers=closers
        )
        meters, controllers, station.sims = modbus.meters, modbus.controllers, modbus.sims

        if backend is None and config.backend is not None:
            backend = BackendAccess(config.backend.url, config.backend.token)
        if backend is not None:
            from drivers.backend_client import HttpBackend  # noqa: PLC0415 (httpx)

            station.backend = HttpBackend(
                backend.url,
                backend.token,
                timeout_s=config.backend.timeout_s if config.backend else 10.0,
                time_zone=config.timezone,
                ca_bundle=backend.ca_bundle,
                receipt_secret=config.backend.receipt_secret if config.backend else None,
            )
            closers.append(station.backend.close)
        devices = station_devices(
            config, station.terminal, station.backend, meters, controllers, signing=modbus.signing
        )
        if simulate:
            config = replace(config, journal_path=state_dir / "journal.db")
        if backend is not None:
            runtime_options.setdefault("receipt_base_url", backend.url)
        station.runtime = build_runtime(config, devices, clock, **runtime_options)
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    station.closers = closers
    return station
