"""systemd's notify protocol (sd_notify) in plain Python: READY=1, WATCHDOG=1, STATUS=...

The service manager passes a unix datagram socket in ``$NOTIFY_SOCKET`` (a path, or an
abstract name starting with "@"). Without it every call is a no-op, so the same code runs
under systemd, in a terminal and in tests. With ``WatchdogSec=`` systemd also passes
``$WATCHDOG_USEC``; the kiosk must send WATCHDOG=1 at least that often or be restarted.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


def _address(raw: str) -> str | bytes:
    if raw.startswith("@"):  # abstract namespace: a leading NUL byte instead of "@"
        return b"\0" + raw[1:].encode()
    return raw


class Notifier:
    """Talks to the service manager. Never raises: a lost notification must not stop charging."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if env is None else env
        self._socket_name = env.get("NOTIFY_SOCKET") or None
        self._clock = clock
        self._last_ping: float | None = None
        self.watchdog_interval_s = _watchdog_interval(env)
        # STATUS= and READY=1 come from other threads than STOPPING=1 (the GUI's): once
        # stopping, neither follows it (a stale state, or ready while the station stops).
        self._stopping = False
        self._order = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._socket_name is not None

    def notify(self, *lines: str) -> bool:
        """Send KEY=VALUE lines in one datagram. True if the manager got it."""
        if self._socket_name is None:
            return False
        message = "\n".join(lines).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                # Never wait for a manager that does not read: a full queue drops the message.
                sock.setblocking(False)
                sock.connect(_address(self._socket_name))
                sock.sendall(message)
        except OSError as exc:
            log.warning("sd_notify to %s failed: %s", self._socket_name, exc)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        lines = ["READY=1"]
        if status:
            lines.append(f"STATUS={_one_line(status)}")
        with self._order:  # a station stopped while it started never says it is ready
            return not self._stopping and self.notify(*lines)

    def status(self, text: str) -> bool:
        with self._order:
            return not self._stopping and self.notify(f"STATUS={_one_line(text)}")

    def stopping(self) -> bool:
        with self._order:
            self._stopping = True
            return self.notify("STOPPING=1")

    def watchdog(self) -> bool:
        self._last_ping = self._clock()
        return self.notify("WATCHDOG=1")

    def keepalive(self) -> bool:
        """Ping if half the watchdog interval has passed since the last ping.

        Call it from the loop whose liveness matters (the state machine's thread): if that loop
        hangs, the pings stop and systemd restarts the kiosk; recovery then finishes what was open.
        """
        if self.watchdog_interval_s is None:
            return False
        now = self._clock()
        if self._last_ping is not None and now - self._last_ping < self.watchdog_interval_s / 2:
            return False
        return self.watchdog()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (e.g. the parent that exec'd us)
    try:
        value = int(usec)
    except ValueError:
        log.warning("WATCHDOG_USEC=%r is not a number of microseconds; watchdog off", usec)
        return None
    return value / 1_000_000 if value > 0 else None
