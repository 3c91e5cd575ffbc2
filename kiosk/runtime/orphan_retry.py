"""When the orphan sweep could not ask the terminal, it is tried again until the terminal answers.

A terminal still busy with the transaction of a killed run (or simply unplugged) answers
nothing at start-up. The hold it approved for that run must not stay on the driver's card until
the next end-of-day, so the sweep is retried: after 30 s, then doubling up to every 10 min.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(minutes=10)


class OrphanSweepRetry:
    """The schedule; thread-safe (the sweep runs on the terminal's owner, the check on the tick)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._due: datetime | None = None
        self._delay = FIRST_RETRY
        self._queued = False

    @property
    def pending(self) -> bool:
        """True from a sweep the terminal did not answer until one it answered."""
        with self._lock:
            return self._due is not None or self._queued

    def failed(self, now: datetime) -> None:
        with self._lock:
            self._due = now + self._delay
            self._delay = min(self._delay * 2, LAST_RETRY)
            self._queued = False

    def succeeded(self) -> None:
        with self._lock:
            self._due = None
            self._delay = FIRST_RETRY
            self._queued = False

    def take_due(self, now: datetime) -> bool:
        """True once per due retry: the caller queues the sweep on the terminal's owner."""
        with self._lock:
            if self._due is None or self._queued or now < self._due:
                return False
            self._due = None
            self._queued = True
            return True
