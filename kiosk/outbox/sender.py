"""The outbox sender: one thread that delivers journaled records to the backend, forever.

Records leave in the order they were written (one station's sessions arrive in order): the
oldest undelivered record is sent first, and while it fails nothing behind it overtakes it.
A failure (no answer, 5xx, an unreadable answer) is journaled and retried after an
exponential backoff with jitter, with the same idempotency key, however long it takes. The
backoff holds only while the backend is believed unreachable: when any request succeeds again
(the reachability probe, a payment link), the queue goes at once. The
backend's answer is journaled with the record; a record is marked delivered only after that
answer, and never deleted. A 4xx means the backend will refuse this record every time: it is
parked (kept, counted, shown in the service menu) instead of being retried in a hot loop, and
the records behind it go on.

A kill at any point leaves either an unmarked record (sent again with the same key: the
backend answers with its first answer) or a delivered one.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from kiosk.devices import Backend, BackendAck, BackendError
from kiosk.journal.outbox import OutboxRecord
from kiosk.journal.store import Journal, JournalError
from kiosk.outbox.backoff import Backoff
from kiosk.runtime.clock import Clock, FakeClock

log = logging.getLogger(__name__)


def _session_run(records: list[OutboxRecord]) -> list[OutboxRecord]:
    """The session records at the head of `records` that are due and readable: what can
    go in one batch request."""
    run: list[OutboxRecord] = []
    for record in records:
        if record.kind != "session" or (run and record.attempts > 0):
            break
        try:
            json.loads(record.payload_json)
        except ValueError:
            break
        run.append(record)
    return run


class Pingable(Protocol):
    def ping(self) -> bool: ...


class OutboxSender:
    def __init__(
        self,
        journal: Journal,
        backend: Backend,
        clock: Clock,
        *,
        backoff: Backoff | None = None,
        probe_period: timedelta = timedelta(seconds=30),
        batch: int = 50,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._journal = journal
        self._backend = backend
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._probe_period = probe_period
        self._batch = batch
        self._on_change = on_change
        self._cv = threading.Condition()
        self._stopped = False
        self._woken = False
        self._busy = False
        self._next_probe: datetime | None = None
        # After a start (a reboot, a new network), the first pass tries the head at once
        # instead of sitting out a backoff computed before.
        self._fresh = True
        self.online: bool | None = None  # None: not known yet
        self.delivered = 0
        self.parked = 0
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wake(self) -> None:
        """A record was written (or the backend is known to be back): look now."""
        with self._cv:
            self._woken = True
            self._cv.notify_all()

    def idle(self) -> bool:
        with self._cv:
            return not self._busy and not self._woken

    # ------------------------------------------------------------------ one pass

    def run_once(self) -> datetime | None:
        """Deliver what is due, in order. Returns when to look again (None: when woken)."""
        while True:
            try:
                queue = self._journal.outbox_queue(self._batch)
            except JournalError as exc:
                log.error("outbox: journal unreadable (%s)", exc)
                return self._clock.now() + self._backoff.cap
            if not queue:
                return self._probe_if_due()
            for record in queue:
                now = self._clock.now()
                waiting = (
                    not self._fresh
                    and record.next_attempt_at is not None
                    and record.next_attempt_at > now
                )
                self._fresh = False
                # The head waits and nothing overtakes it, but only while the backend is
                # believed unreachable: once any request succeeds again (a probe here, a
                # payment link elsewhere: note()), nothing sits out the rest of a backoff.
                if waiting and self.online is False:
                    self._probe()
                if waiting and self.online is not True:
                    assert record.next_attempt_at is not None
                    return min(record.next_attempt_at, self._next_probe or record.next_attempt_at)
                backlog = _session_run(queue[queue.index(record) :])
                if len(backlog) > 1 and hasattr(self._backend, "report_sessions"):
                    retry_at = self._deliver_backlog(backlog)
                    if retry_at is not None:
                        return retry_at
                    break  # read the queue again
                retry_at = self._deliver(record)
                if retry_at is not None:
                    return retry_at

    def _deliver(self, record: OutboxRecord) -> datetime | None:
        """None when the record is done (delivered or parked), else when to try it again."""
        now = self._clock.now()
        try:
            payload = json.loads(record.payload_json)
        except ValueError as exc:  # a damaged row: keep it for the operator, go on
            self._park(record, 0, {"detail": f"payload is not JSON ({exc})"}, now)
            return None
        try:
            ack = self._backend.report(record.kind, record.idempotency_key, payload)
        except (BackendError, OSError) as exc:
            return self._failed(record, exc, now)
        self._set_online(True)
        self._answered(record, ack, now)
        return None

    def _deliver_backlog(self, records: list[OutboxRecord]) -> datetime | None:
        """Several session records in one request (a backlog after time offline). Answers
        are journaled in order; the first record to be retried stops the pass there."""
        now = self._clock.now()
        payloads = [json.loads(r.payload_json) for r in records]
        try:
            answers = self._backend.report_sessions(  # type: ignore[attr-defined]
                [(r.idempotency_key, p) for r, p in zip(records, payloads, strict=True)]
            )
        except (BackendError, OSError) as exc:
            return self._failed(records[0], exc, now)
        self._set_online(True)
        for record, answer in zip(records, answers, strict=True):
            if isinstance(answer, BackendError):
                return self._failed(record, answer, now)
            self._answered(record, answer, now)
        return None

    def _failed(self, record: OutboxRecord, exc: Exception, now: datetime) -> datetime:
        retry_at = now + self._backoff.delay(record.attempts + 1)
        self._journal.outbox_failed(record.id, str(exc), retry_at, at=now)
        self.failures += 1
        log.warning(
            "outbox: %s not delivered (attempt %d, next at %s): %s",
            record.idempotency_key,
            record.attempts + 1,
            retry_at.isoformat(timespec="seconds"),
            exc,
        )
        self._set_online(False)
        self._changed()
        return retry_at

    def _answered(self, record: OutboxRecord, ack: BackendAck, now: datetime) -> None:
        if ack.accepted:
            self._journal.outbox_delivered(record.id, ack.status_code, dict(ack.body), at=now)
            self.delivered += 1
            log.info("outbox: %s delivered (%d)", record.idempotency_key, ack.status_code)
            self._changed()
        else:
            self._park(record, ack.status_code, dict(ack.body), now)

    def _park(
        self, record: OutboxRecord, status: int, answer: dict[str, object], now: datetime
    ) -> None:
        self._journal.outbox_parked(record.id, status, answer, at=now)
        self.parked += 1
        log.error(
            "outbox: %s refused (%s: %s); parked for the operator",
            record.idempotency_key,
            f"HTTP {status}" if status else "not sendable",
            str(answer)[:300],
        )
        self._changed()

    def _probe_if_due(self) -> datetime | None:
        """With nothing to send, ask now and then whether the backend answers (the QR option
        is shown only while it does)."""
        self._probe()
        return self._next_probe

    def _probe(self) -> bool:
        """Ping the backend if a probe is due; True if it answered."""
        ping = getattr(self._backend, "ping", None)
        if ping is None:
            return False
        now = self._clock.now()
        if self._next_probe is not None and now < self._next_probe:
            return False
        self._next_probe = now + self._probe_period
        answered = bool(ping())
        self.note(answered)
        return answered

    def note(self, online: bool) -> None:
        """What another call to the backend (a payment link) found out about reaching it."""
        self._set_online(online)

    def _set_online(self, online: bool) -> None:
        if self.online is not online:
            before, self.online = self.online, online
            if online:  # the normal state: worth a line, not an alarm
                log.info("backend reachable")
                self.wake()  # what waited out a backoff goes now
            elif before is None:
                # Not reached yet since start (an embedded backend starts after the first
                # frame): a failed delivery still warns, with what it could not send.
                log.info("backend not reachable yet")
            else:
                log.warning("backend unreachable")
            self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            try:
                self._on_change()
            except Exception:
                log.exception("outbox: change listener failed")

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        try:
            while True:
                with self._cv:
                    if self._stopped:
                        return
                    self._woken = False
                    self._busy = True
                try:
                    wake_at = self.run_once()
                except Exception:  # the sender must outlive any one bad record
                    log.exception("outbox: pass failed")
                    wake_at = self._clock.now() + self._backoff.base
                with self._cv:
                    self._busy = False
                    if self._stopped:
                        return
                    if not self._woken:
                        self._clock.wait(self._cv, wake_at)
        finally:
            if isinstance(self._clock, FakeClock):
                self._clock.forget()
