"""Wake long-polls when a link changes, without holding a thread or a DB connection.

Waiters sleep on an asyncio.Condition in the event loop. Changes made in worker threads (the
pay form, a webhook, the sweep) notify through call_soon_threadsafe. Another process changing
the same database is noticed by the waiter's periodic re-check (`recheck_s`), so several
workers behind one load balancer still answer correctly, only a little later.
"""

from __future__ import annotations

import asyncio
import contextlib


class LinkChanges:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._condition: asyncio.Condition | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._condition = asyncio.Condition()

    async def wait(self, timeout_s: float) -> None:
        """Return at the next change anywhere, or after timeout_s."""
        if self._condition is None:
            await asyncio.sleep(timeout_s)
            return
        async with self._condition:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._condition.wait(), timeout_s)

    def changed(self) -> None:
        """Call from any thread after committing a link change."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        # RuntimeError: the loop closed meanwhile, so nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._spawn_notify)

    def _spawn_notify(self) -> None:
        task = asyncio.ensure_future(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify(self) -> None:
        assert self._condition is not None
        async with self._condition:
            self._condition.notify_all()
