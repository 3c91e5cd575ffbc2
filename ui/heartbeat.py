"""The systemd watchdog, fed only while the core's state machine is alive.

The runtime's ticker posts an event every second and the machine thread handles it; the
heartbeat notes when the machine last finished handling one. The GUI thread's timer asks
`Keepalive.beat()`, which pings systemd (WATCHDOG=1) only while that note is recent. A hung
state machine (or a hung GUI thread, whose timer then stops) stops the pings, and systemd
restarts the kiosk; recovery then finishes whatever was open.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.snapshot import StationSnapshot
from kiosk.watchdog import Notifier

if TYPE_CHECKING:  # the runtime is built after the first frame (ui.starting)
    from kiosk.runtime.core import Runtime


class Heartbeat(Protocol):
    def age(self) -> float | None: ...


class MachineHeartbeat:
    """When the runtime's machine thread last handled an event (monotonic seconds)."""

    def __init__(self, runtime: Runtime, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: float | None = None
        handle = runtime.handle

        def handle_and_note(event: Any) -> None:
            try:
                handle(event)
            finally:  # an event that failed was still handled: the loop goes on
                self._last = self._clock()

        # The machine loop calls self.handle: wrapping the instance's attribute observes every
        # event without the core knowing about the watchdog.
        setattr(runtime, "handle", handle_and_note)  # noqa: B010

    def age(self) -> float | None:
        return None if self._last is None else self._clock() - self._last


class Keepalive:
    """Pings the watchdog while the heartbeat is younger than `max_age_s`."""

    def __init__(self, notifier: Notifier, heartbeat: Heartbeat | None, max_age_s: float) -> None:
        self._notifier = notifier
        self._heartbeat = heartbeat
        self.max_age_s = max_age_s
        self.ready = False

    def running(self, heartbeat: Heartbeat) -> None:
        """The station runs (built after the first frame): ping while `heartbeat` is young."""
        self._heartbeat = heartbeat
        self.ready = True

    def beat(self) -> bool:
        """True if a WATCHDOG=1 went out."""
        if not self.ready or self._heartbeat is None:
            return False
        age = self._heartbeat.age()
        if age is None or age > self.max_age_s:
            return False
        return self._notifier.keepalive()


def max_heartbeat_age(notifier: Notifier, tick_s: float = 1.0) -> float:
    """How old the machine's last event may be: a few ticks, and well inside the interval."""
    interval = notifier.watchdog_interval_s or 30.0
    return max(3 * tick_s, interval / 4)


def status_line(snapshot: StationSnapshot) -> str:
    """What `systemctl status` shows: each connector's status, and a station-wide notice."""
    tiles = ", ".join(f"{t.connector_id} {t.status.value}" for t in snapshot.connectors)
    return f"connectors: {tiles}" + (f"; {snapshot.notice}" if snapshot.notice else "")


class StatusReporter:
    """Sends STATUS= when the line changes (called on the runtime's thread)."""

    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier
        self._last: str | None = None

    def __call__(self, snapshot: StationSnapshot) -> None:
        line = status_line(snapshot)
        if line != self._last:
            self._last = line
            self._notifier.status(line)
