"""The station while it starts. The window shows the idle screen first, built from the config
alone: every tile says "connecting…". The runtime, with its journal, devices, simulators and
backend client, is built after that first frame and off the GUI thread, so none of it (nor its
imports) delays the frame. Until then intents wait, and the service menu says the station is
still starting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from kiosk.config import StationConfig
from kiosk.runtime.clock import Clock, SystemClock
from kiosk.runtime.starting import starting_snapshot
from kiosk.snapshot import Intent, StationSnapshot
from ui.ports import Listener, ServicePort, StationPort

if TYPE_CHECKING:  # the composition root imports the whole station stack: after the frame
    from kiosk.session.model import Policy
    from ui.composition import Assembly


class CompositionError(ValueError):
    """The config cannot be assembled into a station; the message says which device and why."""


FIRST_FRAME_WAIT_S = 10.0  # the station is built anyway after this long without a frame
STILL_STARTING = "the station is still starting: try again in a moment"


class StartingStation:
    """The window's station: the configured station until the runtime is attached, then the
    runtime itself. Intents sent before that are handed over in order."""

    def __init__(self, first: StationSnapshot) -> None:
        self._first = first
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._intents: list[Intent] = []
        self._runtime: StationPort | None = None

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            if self._runtime is None:
                self._listeners.append(listener)
                runtime = None
            else:
                runtime = self._runtime
        if runtime is None:
            listener(self._first)
        else:
            runtime.subscribe(listener)

    def send(self, intent: Intent) -> None:
        with self._lock:
            if self._runtime is None:
                self._intents.append(intent)
                return
            runtime = self._runtime
        runtime.send(intent)

    def attach(self, runtime: StationPort) -> None:
        """From now on everything goes to `runtime` (its subscribe and send do not block)."""
        with self._lock:  # held, so no later intent overtakes the queued ones
            self._runtime = runtime
            for listener in self._listeners:
                runtime.subscribe(listener)
            for intent in self._intents:
                runtime.send(intent)
            self._listeners, self._intents = [], []


class LateService:
    """The service menu's functions: "still starting" until the station's own are attached."""

    def __init__(self) -> None:
        self._service: ServicePort | None = None

    def attach(self, service: ServicePort) -> None:
        self._service = service

    def recent_sessions(self, limit: int) -> list[str]:
        service = self._service
        return [STILL_STARTING] if service is None else service.recent_sessions(limit)

    def terminal_status(self) -> str:
        return self._ask(lambda service: service.terminal_status())

    def end_of_day(self) -> str:
        return self._ask(lambda service: service.end_of_day())

    def open_preauths(self) -> str:
        return self._ask(lambda service: service.open_preauths())

    def card_refund(self, session_id: str, amount: str) -> str:
        return self._ask(lambda service: service.card_refund(session_id, amount))

    def _ask(self, call: Callable[[ServicePort], str]) -> str:
        service = self._service
        return STILL_STARTING if service is None else call(service)


class StationStart:
    """What the app shows before the station exists, and the station built after the first
    frame (:meth:`run`, on a thread of its own: recovery may wait for the terminal)."""

    def __init__(
        self,
        config: StationConfig,
        *,
        simulate: bool,
        state_dir: Path,
        clock: Clock | None = None,
        policy: Policy | None = None,
    ) -> None:
        self._config = config
        self._simulate = simulate
        self._state_dir = state_dir
        self._clock = clock
        self._policy = policy
        self.zone = ZoneInfo(config.timezone)
        self.station = StartingStation(starting_snapshot(config, (clock or SystemClock()).now()))
        self.service = LateService()
        self.assembly: Assembly | None = None
        self._first_frame = threading.Event()
        self._cancelled = False

    def first_frame_shown(self) -> None:
        """The idle screen is on the display: the station may be built now."""
        self._first_frame.set()

    def run(self, assembled: Callable[[Assembly], None] = lambda _: None) -> None:
        """Wait for the first frame, build the station (raises what :func:`assemble` raises:
        a CompositionError for a config that cannot work, an OSError for a device that cannot
        be opened), hand it to the window, call `assembled` (before the runtime starts), and
        start it: recovery, device polling, reporting."""
        self._first_frame.wait(FIRST_FRAME_WAIT_S)
        if self._cancelled:
            return
        from ui.composition import assemble  # noqa: PLC0415 (the station stack: after the frame)

        assembly = assemble(
            self._config,
            simulate=self._simulate,
            state_dir=self._state_dir,
            clock=self._clock,
            policy=self._policy,
        )
        self.assembly = assembly
        if self._cancelled:  # the app quit while the station was built: stop() closes it
            return
        self.station.attach(assembly.runtime)
        self.service.attach(assembly.service)
        assembled(assembly)
        assembly.start()

    def cancel(self) -> None:
        """The app quits: a start not yet begun does not begin; a running one stops early."""
        self._cancelled = True
        self._first_frame.set()
        if self.assembly is not None:
            self.assembly.cancel_start()

    def stop(self) -> None:
        """After the thread running :meth:`run` has ended: close whatever it built."""
        self.cancel()
        if self.assembly is not None:
            self.assembly.stop()
