"""Device health for the runtime and `evkiosk doctor`: "meter offline since ..., last error ...".

Each driver owns one `HealthTracker`. A success makes the device OK (DEGRADED if it needed
retries); failures make it DEGRADED, and `offline_after` failures in a row make it OFFLINE, with
the time the streak began. While OFFLINE, `may_try()` spaces attempts out with exponential
backoff so a dead device does not starve the others on its bus. Times come from injected clocks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kiosk.devices import DeviceHealth, DeviceTimeout


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class HealthReport:
    name: str
    state: DeviceHealth
    since: datetime | None  # when the current state began
    last_error: str | None
    last_error_at: datetime | None
    last_ok_at: datetime | None
    consecutive_failures: int
    failures_total: int
    retries_total: int

    def describe(self) -> str:
        text = f"{self.name}: {self.state.value}"
        if self.since is not None and self.state is not DeviceHealth.OK:
            text += f" since {self.since.isoformat(timespec='seconds')}"
        if self.last_error:
            text += f", last error: {self.last_error}"
        return text


class HealthTracker:
    def __init__(
        self,
        name: str,
        *,
        offline_after: int = 3,
        backoff_s: float = 1.0,
        backoff_max_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = utc_now,
    ) -> None:
        self.name = name
        self.offline_after = offline_after
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._state = DeviceHealth.OK
        self._since: datetime | None = None
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None
        self._last_ok_at: datetime | None = None
        self._streak = 0
        self._failures = 0
        self._retries = 0
        self._next_try = float("-inf")

    def _enter(self, state: DeviceHealth) -> None:
        if state is not self._state:
            self._state = state
            self._since = self._wall()

    def success(self, retries: int = 0) -> None:
        with self._lock:
            self._streak = 0
            self._retries += retries
            self._last_ok_at = self._wall()
            self._next_try = float("-inf")
            self._enter(DeviceHealth.DEGRADED if retries else DeviceHealth.OK)

    def failure(self, error: BaseException) -> None:
        with self._lock:
            self._streak += 1
            self._failures += 1
            self._last_error = str(error)
            self._last_error_at = self._wall()
            if self._streak >= self.offline_after:
                if self._state is not DeviceHealth.OFFLINE:
                    self._state = DeviceHealth.OFFLINE
                    self._since = self._last_error_at
                excess = self._streak - self.offline_after
                delay = min(self.backoff_max_s, self.backoff_s * 2**excess)
                self._next_try = self._clock() + delay
            else:
                self._enter(DeviceHealth.DEGRADED)

    def may_try(self) -> None:
        """Raise DeviceTimeout while an offline device is backing off; otherwise return."""
        with self._lock:
            wait = self._next_try - self._clock()
            if wait > 0:
                raise DeviceTimeout(
                    f"{self.name} is offline (next attempt in {wait:.1f} s); "
                    f"last error: {self._last_error}"
                )

    def report(self) -> HealthReport:
        with self._lock:
            return HealthReport(
                name=self.name,
                state=self._state,
                since=self._since,
                last_error=self._last_error,
                last_error_at=self._last_error_at,
                last_ok_at=self._last_ok_at,
                consecutive_failures=self._streak,
                failures_total=self._failures,
                retries_total=self._retries,
            )

    @property
    def state(self) -> DeviceHealth:
        return self._state
