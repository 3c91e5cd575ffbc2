"""One thread per device (or per shared bus): the only thread that talks to that hardware.

It runs submitted jobs in order and, between jobs, polls on a fixed period. A slow or hung
device therefore delays only its own owner, never the state machine or another device.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from kiosk.runtime.clock import Clock, FakeClock

log = logging.getLogger(__name__)

Job = Callable[[], None]


class DeviceOwner:
    def __init__(
        self,
        name: str,
        clock: Clock,
        poll: Callable[[], None] | None = None,
        period: timedelta = timedelta(seconds=1),
    ) -> None:
        self.name = name
        self._clock = clock
        self._poll = poll
        self._period = period
        self._cv = threading.Condition()
        self._jobs: collections.deque[Job] = collections.deque()
        self._busy = False
        self._stopped = False
        self._next_poll: datetime | None = None
        self._thread = threading.Thread(target=self._run, name=f"owner-{name}", daemon=True)

    def poll_with(self, poll: Callable[[], None]) -> None:
        """Set the periodic read (before start): all devices behind this owner, in turn."""
        self._poll = poll

    def start(self) -> None:
        # Busy until the thread first waits: a test's wait-for-idle must not pass before the
        # first poll has run.
        with self._cv:
            self._busy = True
        self._thread.start()

    def submit(self, job: Job) -> None:
        with self._cv:
            self._jobs.append(job)
            self._cv.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def idle(self) -> bool:
        """Nothing queued and the thread waiting (the state a test's fake clock may move in)."""
        with self._cv:
            return not self._jobs and not self._busy

    def _run(self) -> None:
        try:
            while True:
                with self._cv:
                    work = self._next_work()
                    if work is None:
                        return
                    self._busy = True
                try:
                    work()
                except Exception:  # a failing job must not kill the device's only thread
                    log.exception("device owner %s: job failed", self.name)
                # Still busy: idle only once it waits again, under the lock (_next_work). Else
                # a fake clock moved in between would not wake it, and its next poll would run
                # at a time of the scheduler's choosing instead of the test's.
        finally:
            with self._cv:
                self._busy = False
            if isinstance(self._clock, FakeClock):
                self._clock.forget()

    def _next_work(self) -> Job | None:
        """With the lock held: the next job or poll, waiting for whichever comes first."""
        while not self._stopped:
            if self._jobs:
                return self._jobs.popleft()
            if self._poll is not None:
                now = self._clock.now()
                if self._next_poll is None or now >= self._next_poll:
                    self._next_poll = now + self._period
                    return self._poll
            self._busy = False
            self._clock.wait(self._cv, self._next_poll)
        return None
