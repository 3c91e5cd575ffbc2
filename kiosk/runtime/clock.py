"""Time for the runtime: the wall clock in service, a hand-driven clock in tests.

Threads never call time.sleep: they wait on their condition variable through the clock, so a
test can advance time by an hour in a microsecond, and `FakeClock.idle()` says when every thread
woken by an advance has finished its work and is waiting again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def wait(self, cv: threading.Condition, deadline: datetime | None) -> None:
        """With `cv` held: block until notified or until `deadline` (None: until notified)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, cv: threading.Condition, deadline: datetime | None) -> None:
        if deadline is None:
            cv.wait()
            return
        remaining = (deadline - self.now()).total_seconds()
        if remaining > 0:
            cv.wait(timeout=remaining)


class ShiftedClock(SystemClock):
    """The wall clock moved to start at ``start``: a simulated station shows the prices and
    the times of another moment (``evkiosk run --simulate --start-at``) and runs on from it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("--start-at: give a time zone, e.g. 2026-12-07T00:20+01:00")
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


class FakeClock:
    """Time moves only when a test calls advance()."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()
        # thread ident -> (its condition, its deadline, its name)
        self._sleepers: dict[int, tuple[threading.Condition, datetime | None, str]] = {}
        self._woken: set[int] = set()  # woken by time, not yet waiting again
        self._settle: Callable[[], object] | None = None

    def settle_with(self, settle: Callable[[], object]) -> None:
        """Wake the threads due at one instant one at a time, in the order of their names,
        calling ``settle`` (e.g. ``Runtime.wait_idle``) after each. Threads woken together
        post their events in whatever order the scheduler picks; a test that counts the
        journal's commits (the crash drills) needs the same order in every run."""
        self._settle = settle

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def wait(self, cv: threading.Condition, deadline: datetime | None) -> None:
        me = threading.get_ident()
        with self._lock:
            self._woken.discard(me)
            if deadline is not None and deadline <= self._now:
                return
            self._sleepers[me] = (cv, deadline, threading.current_thread().name)
        try:
            cv.wait()
        finally:
            with self._lock:
                self._sleepers.pop(me, None)

    def advance(self, delta: timedelta | float) -> None:
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._now += step
            due = sorted(
                (name, ident, cv)
                for ident, (cv, deadline, name) in self._sleepers.items()
                if deadline is not None and deadline <= self._now
            )
            if self._settle is None:
                self._woken.update(ident for _, ident, _ in due)
        if self._settle is None:
            for _, _, cv in due:
                with cv:
                    cv.notify_all()
            return
        for _, ident, cv in due:
            with self._lock:
                entry = self._sleepers.get(ident)
                if entry is None or entry[1] is None or entry[1] > self._now:
                    continue  # woken meanwhile by other work: no longer waiting for this time
                self._woken.add(ident)
            with cv:
                cv.notify_all()
            self._settle()

    def forget(self) -> None:
        """The calling thread is done for good (it will not wait again)."""
        with self._lock:
            self._woken.discard(threading.get_ident())

    def idle(self) -> bool:
        with self._lock:
            return not self._woken
