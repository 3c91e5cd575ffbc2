"""The composition root: the runtime and its devices, built from the station config.

The only ui module that imports drivers. In simulated mode every device is a simulator that
speaks its real protocol on 127.0.0.1: the ZVT terminal simulator over TCP, one Modbus TCP
meter and charge controller per connector (pymodbus servers with a charging model), each
reached through the same driver a real station uses. Real mode builds the same drivers from
the config's ports.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from drivers.station import StationError, build_modbus_devices
from drivers.zvt.config import terminal_model_problem
from drivers.zvt.terminal import ZvtConfig, ZvtTerminal
from kiosk.config import DeviceConfig, StationConfig
from kiosk.devices import Backend, CardTerminal
from kiosk.journal.store import Journal
from kiosk.runtime.build import build_runtime, station_devices
from kiosk.runtime.clock import Clock, SystemClock
from kiosk.runtime.core import Runtime
from kiosk.session.model import Policy
from ui.starting import CompositionError
from ui.station_service import StationService

if TYPE_CHECKING:  # a real-hardware station never loads the simulators nor pymodbus servers
    from drivers.backend_client import HttpBackend
    from drivers.modbus_sim import SimStation
    from drivers.ocpp import CsmsLink
    from drivers.zvt_sim import TerminalSimulator
    from ui.embedded_backend import EmbeddedBackend

log = logging.getLogger(__name__)


@dataclass
class Assembly:
    runtime: Runtime
    journal: Journal
    zone: ZoneInfo
    service: StationService
    simulator: Simulators | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)
    csms: CsmsLink | None = None  # the OCPP link to the operator's CSMS, when configured

    cancelled: bool = False

    def start(self) -> None:
        """Publish the station as it starts (its prices, every tile "connecting…"), then start
        the runtime: recovery, device polling, reporting. Not on the GUI thread: recovery may
        wait for the terminal."""
        self.runtime.publish_starting()
        if not self.cancelled:
            self.runtime.start()
            if self.csms is not None:
                self.csms.start()

    def cancel_start(self) -> None:
        """The app quits: a start not yet begun does not start at all."""
        self.cancelled = True

    def stop(self) -> None:
        self.cancel_start()  # a start not yet begun must not begin on a stopped runtime
        self.runtime.stop()
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # closing one device must not keep the others open
                log.exception("closing %s failed", close)
        self.journal.close()


# ---------------------------------------------------------------------------- devices


def _setting(device: DeviceConfig, key: str) -> Any:
    if key not in device.settings:
        raise CompositionError(f"[{device.name}] needs '{key}' for real hardware")
    return device.settings[key]


# ---------------------------------------------------------------------------- simulators


class Simulators:
    """The simulated hardware, as the installer's control panel sees it (ui.ports)."""

    def __init__(self, terminal: TerminalSimulator, stations: dict[str, SimStation]) -> None:
        self.terminal = terminal
        self.stations = stations
        self.link_payer: Callable[[], str] | None = None
        self._ev_power = {cid: s.model.ev_max_power_w for cid, s in stations.items()}

    def connectors(self) -> list[str]:
        return list(self.stations)

    def plug(self, connector_id: str, plugged: bool) -> None:
        station = self.stations[connector_id]
        if plugged:
            station.plug_in(soc=0.3)
        else:
            station.unplug()

    def pause_vehicle(self, connector_id: str, paused: bool) -> None:
        """The car stops drawing (pilot state B2, as when full) or draws again."""
        station = self.stations[connector_id]
        station.set_ev(max_power_w=0 if paused else self._ev_power.get(connector_id, 11_000.0))

    def card_behaviours(self) -> list[str]:
        from drivers.zvt_sim import Behaviour  # noqa: PLC0415 (simulated only)

        return [b.value for b in Behaviour if b is not Behaviour.NO_CARD]

    def set_card_behaviour(self, behaviour: str) -> None:
        from drivers.zvt_sim import Behaviour  # noqa: PLC0415 (simulated only)

        self.terminal.script(Behaviour(behaviour))

    def pay_link(self) -> str:
        if self.link_payer is None:
            return "no payment-link backend is configured in this station"
        return self.link_payer()

    def faults(self) -> list[str]:
        names = [f"meter {cid}: silent" for cid in self.stations]
        names += [f"meter {cid}: garbage" for cid in self.stations]
        names += [f"controller {cid}: error F" for cid in self.stations]
        names += ["terminal: no response", "terminal: link lost before result"]
        return names

    def inject(self, fault: str, on: bool) -> None:
        from drivers.modbus_sim import Fault as ModbusFault  # noqa: PLC0415 (simulated only)
        from drivers.zvt_sim import Fault as TerminalFault  # noqa: PLC0415

        device, _, what = fault.partition(": ")
        if device == "terminal":
            if on:
                kind = {
                    "no response": TerminalFault.NO_RESPONSE,
                    "link lost before result": TerminalFault.DROP_BEFORE_RESULT,
                }[what]
                self.terminal.inject(kind)
            return
        kind_name, _, cid = device.partition(" ")
        station = self.stations[cid]
        if kind_name == "controller":
            station.set_controller_error("F" if on else None)
        elif on:
            wire = {"silent": ModbusFault.SILENCE, "garbage": ModbusFault.GARBAGE}[what]
            station.inject("meter", wire)
        else:
            station.clear_faults("meter")


class LateBackend:
    """The HTTP backend client, built on first use: that is on the backend's owner thread once
    the runtime runs, so httpx (and what it loads) does not delay the runtime's start."""

    def __init__(self, make: Callable[[], HttpBackend]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._client: HttpBackend | None = None

    def client(self) -> HttpBackend:
        with self._lock:
            if self._client is None:
                self._client = self._make()
            return self._client

    @property
    def last_link_id(self) -> str | None:
        return None if self._client is None else self._client.last_link_id

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client(), name)


def _http_backend(url: str, token: str, **options: Any) -> HttpBackend:
    from drivers.backend_client import HttpBackend  # noqa: PLC0415 (httpx: after the first frame)

    return HttpBackend(url, token, **options)


def _announce_when_ready(embedded: EmbeddedBackend, runtime: Runtime) -> None:
    try:
        embedded.wait_ready()
    except Exception as exc:  # the outbox's probe keeps trying; this only saves waiting
        log.warning("embedded backend: %s", exc)
        return
    runtime.note_backend(online=True)


def _stopping(embedded: EmbeddedBackend, announcer: threading.Thread) -> Callable[[], None]:
    """Stop the backend, which ends the announcer's wait at once, and let the announcer end:
    a thread still importing when the interpreter shuts down crashes the process."""

    def stop() -> None:
        embedded.stop()
        announcer.join(5)

    return stop


def _payer(embedded: EmbeddedBackend, backend: LateBackend) -> Callable[[], str]:
    def pay() -> str:
        if backend.last_link_id is None:
            return "no payment link has been created yet"
        return embedded.pay(backend.last_link_id)

    return pay


# ---------------------------------------------------------------------------- assembly


def assemble(
    config: StationConfig,
    *,
    simulate: bool,
    state_dir: Path,
    clock: Clock | None = None,
    policy: Policy | None = None,
) -> Assembly:
    """Build (not start) the runtime. `clock` drives the runtime, the meters' timestamps and
    the simulated cars, so a test can move all of them together. The app calls this after
    its first frame (ui.starting): nothing here delays the idle screen."""
    clock = clock or SystemClock()
    state_dir.mkdir(parents=True, exist_ok=True)
    zone = ZoneInfo(config.timezone)
    closers: list[Callable[[], None]] = []
    t0 = clock.now()

    def sim_seconds() -> float:
        # One time base for the meters' plausibility checks and the simulated cars, so a
        # test that moves the runtime's clock moves theirs too.
        return (clock.now() - t0).total_seconds()

    def wall() -> datetime:
        return clock.now().astimezone(UTC)

    try:
        terminal: CardTerminal | None = None
        sim_terminal: TerminalSimulator | None = None
        if config.terminal is not None:
            if problem := terminal_model_problem(config.terminal.model):
                raise CompositionError(problem)
            if simulate or config.terminal.hardware == "simulated":
                from drivers.zvt_sim import Delays, TerminalSimulator  # noqa: PLC0415

                sim_terminal = TerminalSimulator.start_tcp(
                    state_file=state_dir / "simulated-terminal.json", delays=Delays.zero()
                )
                closers.append(sim_terminal.stop)
                port = sim_terminal.address
            else:
                port = str(_setting(config.terminal, "port"))
            zvt = ZvtConfig(
                port=port, password=str(config.terminal.settings.get("password", "000000"))
            )
            zvt_terminal = ZvtTerminal(zvt)
            closers.append(zvt_terminal.close)
            terminal = zvt_terminal

        try:
            modbus = build_modbus_devices(
                config, simulate=simulate, clock=sim_seconds, wall=wall, closers=closers
            )
        except StationError as exc:
            raise CompositionError(str(exc)) from exc
        meters, controllers, stations = modbus.meters, modbus.controllers, modbus.sims

        backend: LateBackend | None = None
        embedded: EmbeddedBackend | None = None
        if config.backend is not None:
            if simulate or config.backend.hardware == "simulated":
                # spawned now, not waited for: the outbox reaches it once it answers
                from ui.embedded_backend import EmbeddedBackend  # noqa: PLC0415 (simulated only)

                embedded = EmbeddedBackend(state_dir, config.backend.station_id)
                embedded.start()
                closers.append(embedded.stop)
                url, token = embedded.url, embedded.token
            else:
                url, token = config.backend.url, config.backend.token
            # The kiosk's real client (drivers.backend_client): the same wire format as a
            # fleet backend gets, in simulated mode too.
            backend = LateBackend(
                partial(
                    _http_backend,
                    url,
                    token,
                    timeout_s=config.backend.timeout_s,
                    time_zone=config.timezone,
                    ca_bundle=None if embedded is not None else config.backend.ca_bundle,
                    receipt_secret=config.backend.receipt_secret,
                ),
            )
            closers.append(backend.close)
        devices = station_devices(
            config,
            terminal,
            cast(Backend | None, backend),
            meters,
            controllers,
            signing=modbus.signing,
        )
        if simulate:
            config = replace(config, journal_path=state_dir / "journal.db")
        if policy is not None:
            config = replace(config, policy=policy)
        runtime = build_runtime(config, devices, clock)
        csms = None
        if config.ocpp is not None:
            from drivers.ocpp import connect_station  # noqa: PLC0415 (websockets: only if used)

            csms = connect_station(runtime, config.ocpp)
            closers.insert(0, csms.stop)  # closed after the runtime, before the devices
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    if embedded is not None:
        # The QR option waits for the backend; say so the moment it answers, not at the
        # outbox's next probe (up to 30 s later).
        announcer = threading.Thread(
            target=_announce_when_ready,
            args=(embedded, runtime),
            name="embedded-backend-ready",
            daemon=True,
        )
        announcer.start()
        closers.append(_stopping(embedded, announcer))  # closed first: closers run in reverse
    simulators = None
    if sim_terminal is not None and stations:
        simulators = Simulators(sim_terminal, stations)
        if embedded is not None and backend is not None:
            simulators.link_payer = _payer(embedded, backend)
    return Assembly(
        runtime=runtime,
        journal=runtime.journal,
        zone=zone,
        service=StationService(runtime, runtime.journal, terminal),
        simulator=simulators,
        closers=closers,
        csms=csms,
    )
