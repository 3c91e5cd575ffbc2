"""The station's device owner threads, and what each one polls.

One owner per device, or per serial port or RS485 bus that devices share (`StationDevices.buses`).
Between jobs an owner reads its meters and controllers in turn and posts what they say as
events; the backend's owner also watches the payment links drivers are paying. An idle
connector's meter is read less often (see `_meter_poll`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from kiosk.devices import BackendError, ChargeController, DeviceError, EnergyMeter, LinkStatus
from kiosk.runtime.clock import Clock
from kiosk.runtime.devices import StationDevices
from kiosk.runtime.owner import DeviceOwner
from kiosk.session import events as ev
from kiosk.session.commands import (
    AbortCard,
    BeginSignedTransaction,
    CancelPaymentLink,
    Command,
    CreatePaymentLink,
    DisableCharging,
    EnableCharging,
    EndSignedTransaction,
    PreauthoriseCard,
    QueryOpenPreauths,
    SettleCard,
)

log = logging.getLogger(__name__)


class DeviceOwners:
    def __init__(
        self,
        devices: StationDevices,
        clock: Clock,
        *,
        post: Callable[[ev.Event], None],
        note_backend: Callable[[bool], None],  # online or not
        poll_period: timedelta,
        link_wait_s: float,
        in_use: Callable[[str], bool] = lambda _cid: True,
        idle_meter_period: timedelta = timedelta(seconds=10),
    ) -> None:
        self.devices = devices
        self._in_use = in_use
        self._idle_meter_period = idle_meter_period
        self.clock = clock
        self._post = post
        self._note_backend = note_backend
        self._link_wait_s = link_wait_s
        self._owners: dict[str, DeviceOwner] = {}
        self._links: dict[str, str] = {}  # link id -> session id, watched by the backend owner
        self._links_lock = threading.Lock()
        self._build_owners(poll_period)

    def _owner(self, key: str, poll_period: timedelta) -> DeviceOwner:
        name = self.devices.owner_name(key)
        if name not in self._owners:
            self._owners[name] = DeviceOwner(name, self.clock, None, poll_period)
        return self._owners[name]

    def _build_owners(self, poll_period: timedelta) -> None:
        polls: dict[str, list[Callable[[], None]]] = {}
        for cid, meter in self.devices.meters.items():
            owner = self._owner(f"meter:{cid}", poll_period)
            polls.setdefault(owner.name, []).append(self._meter_poll(cid, meter))
        for cid, controller in self.devices.controllers.items():
            owner = self._owner(f"controller:{cid}", poll_period)
            polls.setdefault(owner.name, []).append(self._controller_poll(cid, controller))
        if self.devices.terminal is not None:
            self._owner("terminal", poll_period)
        if self.devices.backend is not None:
            owner = self._owner("backend", poll_period)
            polls.setdefault(owner.name, []).append(self._watch_links)
        for name, functions in polls.items():
            owner = self._owners[name]
            owner.poll_with(_all(functions))

    def get(self, key: str) -> DeviceOwner | None:
        """The owner of a device key ("terminal", "backend", "meter:1", "controller:1")."""
        return self._owners.get(self.devices.owner_name(key))

    def owner_for(self, command: Command) -> DeviceOwner | None:
        if isinstance(command, PreauthoriseCard | SettleCard | QueryOpenPreauths | AbortCard):
            key = "terminal"
        elif isinstance(command, CreatePaymentLink | CancelPaymentLink):
            key = "backend"
        elif isinstance(command, EnableCharging | DisableCharging):
            key = f"controller:{command.connector_id}"
        elif isinstance(command, BeginSignedTransaction | EndSignedTransaction):
            key = f"meter:{command.connector_id}"  # the signer shares the meter's line
        else:
            return None
        return self.get(key)

    def start(self) -> None:
        for owner in self._owners.values():
            owner.start()

    def stop(self) -> None:
        for owner in self._owners.values():
            owner.stop()

    def idle(self) -> bool:
        return all(o.idle() for o in self._owners.values())

    def _meter_poll(self, cid: str, meter: EnergyMeter) -> Callable[[], None]:
        # A connector nobody uses needs its meter read only to know that it answers: every
        # `idle_meter_period` (its controller, which sees a plug, is still read every poll).
        # A meter that failed is read every poll until it answers again.
        answered: list[datetime] = []

        def poll() -> None:
            now = self.clock.now()
            if answered and not self._in_use(cid) and now - answered[0] < self._idle_meter_period:
                return
            try:
                reading = meter.read()
            except (DeviceError, OSError) as exc:
                answered.clear()
                self._post(ev.MeterFailed(self.clock.now(), cid, str(exc)))
                return
            answered[:] = [now]
            self._post(ev.MeterUpdate(self.clock.now(), cid, reading))

        return poll

    def _controller_poll(self, cid: str, controller: ChargeController) -> Callable[[], None]:
        def poll() -> None:
            try:
                status = controller.status()
            except (DeviceError, OSError) as exc:
                # never empty: an empty reason would read as "not heard from yet"
                reason = str(exc) or type(exc).__name__
                self._post(ev.ControllerFailed(self.clock.now(), cid, reason))
                return
            self._post(ev.ControllerUpdate(self.clock.now(), cid, status))

        return poll

    def watch_link(self, session_id: str, link_id: str) -> None:
        with self._links_lock:
            self._links[link_id] = session_id

    def unwatch_link(self, link_id: str) -> None:
        with self._links_lock:
            self._links.pop(link_id, None)

    def _watch_links(self) -> None:
        backend = self.devices.backend
        with self._links_lock:
            watched = dict(self._links)
        for link_id, sid in watched.items():
            assert backend is not None
            try:
                link = backend.wait_payment_link(link_id, self._link_wait_s)
            except (BackendError, OSError) as exc:
                log.warning("backend: link %s status unknown (%s)", link_id, exc)
                self._note_backend(False)
                continue
            self._note_backend(True)
            if link.status is not LinkStatus.PENDING:
                self.unwatch_link(link_id)
                self._post(ev.LinkUpdated(self.clock.now(), sid, link))


def _all(functions: list[Callable[[], None]]) -> Callable[[], None]:
    def run() -> None:
        for function in functions:
            function()

    return run
