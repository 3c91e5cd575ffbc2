"""The outbox sender on a real journal file: order, backoff with jitter, parking, the state the
service menu and `evkiosk status` read, and the thread driven by a fake clock."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.devices import BackendAck, BackendError
from kiosk.journal.store import Journal
from kiosk.outbox.backoff import Backoff
from kiosk.outbox.sender import OutboxSender
from kiosk.outbox.state import outbox_state
from kiosk.runtime.clock import FakeClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class ScriptedBackend:
    """Answers report() from a script of outcomes: "ok", "down" (BackendError), or an int
    status (4xx: refused). Records every call; remembers accepted keys like the backend."""

    def __init__(self, *script: str | int) -> None:
        self.script = list(script)
        self.calls: list[str] = []
        self.accepted: list[str] = []
        self.reachable = True

    def report(self, kind: str, idempotency_key: str, payload: Mapping[str, object]) -> BackendAck:
        self.calls.append(idempotency_key)
        outcome = self.script.pop(0) if self.script else "ok"
        if outcome == "down":
            raise BackendError("cannot reach the backend (connection refused)")
        if isinstance(outcome, int):
            return BackendAck(False, outcome, {"detail": "tariff: missing"})
        if idempotency_key not in self.accepted:
            self.accepted.append(idempotency_key)
        return BackendAck(True, 201, {"status": "accepted", "key": idempotency_key})


class PingableBackend(ScriptedBackend):
    def ping(self) -> bool:
        return self.reachable


def journal_with(tmp_path: Path, n: int) -> Journal:
    journal = Journal.open(tmp_path / "journal.db")
    for i in range(n):
        journal.outbox_add("session", f"session:S{i}", {"n": i}, T0 + timedelta(minutes=i))
    return journal


def sender(journal: Journal, backend: Any, clock: FakeClock, seed: int = 1) -> OutboxSender:
    backoff = Backoff(timedelta(seconds=5), timedelta(minutes=30), random.Random(seed))
    return OutboxSender(journal, backend, clock, backoff=backoff)


def test_records_go_in_order_and_the_answer_is_journaled_not_deleted(tmp_path: Path) -> None:
    journal = journal_with(tmp_path, 3)
    backend = ScriptedBackend()
    s = sender(journal, backend, FakeClock(T0))
    assert s.run_once() is None
    assert backend.calls == ["session:S0", "session:S1", "session:S2"]
    rows = journal.query("SELECT idempotency_key, delivered_at, ack_json FROM outbox ORDER BY id")
    assert len(rows) == 3  # kept after delivery, with the answer
    assert all(delivered is not None for _, delivered, _ in rows)
    assert '"status":"accepted"' in rows[0][2]
    assert outbox_state(journal).queued == 0 and outbox_state(journal).delivered == 3


def test_a_failing_head_blocks_the_rest_and_waits_a_jittered_exponential_backoff(
    tmp_path: Path,
) -> None:
    journal = journal_with(tmp_path, 2)
    backend = ScriptedBackend("down", "down", "down")
    clock = FakeClock(T0)
    s = sender(journal, backend, clock)
    waits = []
    for _ in range(3):
        retry_at = s.run_once()
        assert retry_at is not None
        waits.append((retry_at - clock.now()).total_seconds())
        clock.advance(retry_at - clock.now())
    assert backend.calls == ["session:S0"] * 3  # S1 never overtook S0
    for n, wait in enumerate(waits):
        step = 5 * 2**n
        assert step / 2 <= wait <= step
    assert s.run_once() is None
    assert backend.calls[3:] == ["session:S0", "session:S1"]
    (attempts,) = journal.query("SELECT attempts FROM outbox WHERE idempotency_key='session:S0'")
    assert attempts == (4,)


def test_backoff_is_capped_and_jittered_forever() -> None:
    backoff = Backoff(timedelta(seconds=5), timedelta(minutes=30), random.Random(7))
    delays = [backoff.delay(n).total_seconds() for n in range(1, 200)]
    assert max(delays) <= 1800 and min(delays[20:]) >= 900
    assert len(set(delays[20:])) > 100  # jitter: a fleet does not retry in the same second


@given(st.integers(min_value=1, max_value=10_000), st.integers(min_value=0, max_value=2**32))
@settings(max_examples=50, deadline=None)
def test_backoff_stays_between_half_and_all_of_the_step(attempts: int, seed: int) -> None:
    backoff = Backoff(timedelta(seconds=5), timedelta(minutes=30), random.Random(seed))
    step = min(1800.0, 5.0 * 2 ** min(attempts - 1, 30))
    assert step / 2 <= backoff.delay(attempts).total_seconds() <= step


def test_a_refused_record_is_parked_visibly_and_the_rest_goes_on(tmp_path: Path) -> None:
    journal = journal_with(tmp_path, 3)
    backend = ScriptedBackend("ok", 422, "ok")
    s = sender(journal, backend, FakeClock(T0))
    assert s.run_once() is None
    assert backend.calls == ["session:S0", "session:S1", "session:S2"]
    state = outbox_state(journal)
    assert (state.queued, state.parked, state.delivered) == (0, 1, 2)
    (row,) = journal.query("SELECT ack_json, last_error FROM outbox WHERE parked_at IS NOT NULL")
    assert "tariff: missing" in row[0] and row[1] == "refused 422"
    s.run_once()
    assert len(backend.calls) == 3  # not retried in a loop
    assert journal.outbox_unpark() == 1  # the operator fixed the cause
    s.run_once()
    assert backend.calls[3:] == ["session:S1"] and outbox_state(journal).parked == 0


def test_a_damaged_payload_is_parked_not_retried(tmp_path: Path) -> None:
    journal = journal_with(tmp_path, 1)
    journal.query("SELECT 1")
    with journal._tx() as conn:  # a row damaged on disk
        conn.execute("UPDATE outbox SET payload_json = '{broken'")
    backend = ScriptedBackend()
    sender(journal, backend, FakeClock(T0)).run_once()
    assert backend.calls == [] and outbox_state(journal).parked == 1


def test_state_says_queued_count_oldest_age_and_last_error(tmp_path: Path) -> None:
    journal = journal_with(tmp_path, 3)
    clock = FakeClock(T0 + timedelta(hours=2))
    s = sender(journal, ScriptedBackend("ok", "down"), clock)
    s.run_once()
    state = outbox_state(journal)
    assert state.queued == 2 and state.delivered == 1
    assert state.oldest_queued_at == T0 + timedelta(minutes=1)
    assert state.oldest_age_s(clock.now()) == 7140
    assert state.last_error is not None and "connection refused" in state.last_error
    assert s.online is False
    # A read-only second connection (what `evkiosk status` opens) sees the same.
    assert outbox_state(Journal.open(tmp_path / "journal.db")) == state


def test_a_backend_that_answers_a_probe_again_ends_the_wait(tmp_path: Path) -> None:
    journal = journal_with(tmp_path, 1)
    backend = PingableBackend(*["down"] * 12)
    clock = FakeClock(T0)
    s = OutboxSender(
        journal,
        backend,
        clock,
        backoff=Backoff(rng=random.Random(3)),
        probe_period=timedelta(seconds=30),
    )
    for _ in range(12):  # long enough for a backoff of many minutes
        retry_at = s.run_once()
        assert retry_at is not None
        clock.advance(retry_at - clock.now())
    backend.script.clear()
    backend.reachable = False
    wake = s.run_once()
    assert wake is not None and (wake - clock.now()) <= timedelta(seconds=30)
    backend.reachable = True
    clock.advance(timedelta(seconds=30))
    s.run_once()
    assert s.online is True
    assert backend.accepted == ["session:S0"]


def test_the_thread_delivers_on_wake_and_retries_when_the_clock_says(tmp_path: Path) -> None:
    journal = journal_with(tmp_path, 0)
    backend = ScriptedBackend("down")
    clock = FakeClock(T0)
    s = sender(journal, backend, clock)
    s.start()
    try:
        journal.outbox_add("session", "session:A", {"n": 1}, T0)
        s.wake()
        wait_until(lambda: backend.calls == ["session:A"] and s.idle() and clock.idle())
        assert backend.accepted == []
        clock.advance(timedelta(seconds=6))  # past any first backoff (2.5 .. 5 s)
        wait_until(lambda: backend.accepted == ["session:A"] and s.idle() and clock.idle())
    finally:
        s.stop()
    assert outbox_state(journal).queued == 0


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached")
        time.sleep(0.002)


@given(st.lists(st.sampled_from(["ok", "down", "down", 422]), max_size=40))
@settings(max_examples=40, deadline=None)
def test_any_failure_sequence_delivers_each_record_once_in_order(script: list[Any]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        journal = journal_with(Path(tmp), 6)
        backend = ScriptedBackend(*script)
        clock = FakeClock(T0)
        s = sender(journal, backend, clock)
        for _ in range(200):
            retry_at = s.run_once()
            if retry_at is None:
                break
            clock.advance(retry_at - clock.now())
        state = outbox_state(journal)
        parked = {
            r[0]
            for r in journal.query("SELECT idempotency_key FROM outbox WHERE parked_at IS NOT NULL")
        }
        journal.close()
    expected = [f"session:S{i}" for i in range(6) if f"session:S{i}" not in parked]
    assert backend.accepted == expected  # once each, in the order written
    assert state.queued == 0 and state.delivered + state.parked == 6


def test_after_a_restart_the_head_is_tried_at_once(tmp_path: Path) -> None:
    journal = journal_with(tmp_path, 1)
    clock = FakeClock(T0)
    first = sender(journal, ScriptedBackend("down"), clock)
    retry_at = first.run_once()
    assert retry_at is not None and retry_at > clock.now()
    backend = ScriptedBackend()
    sender(journal, backend, clock).run_once()  # a new process, same journal, same instant
    assert backend.accepted == ["session:S0"]


class SignallingBackend(PingableBackend):
    """Sets `delivered` when a report is accepted: the test waits on an event, not a timer."""

    def __init__(self, *script: str | int) -> None:
        super().__init__(*script)
        self.delivered = threading.Event()

    def report(self, kind: str, idempotency_key: str, payload: Mapping[str, object]) -> BackendAck:
        ack = super().report(kind, idempotency_key, payload)
        if ack.accepted:
            self.delivered.set()
        return ack


def backed_off_to_the_cap(tmp_path: Path) -> tuple[OutboxSender, SignallingBackend, FakeClock]:
    """A report that failed through a long outage: its next attempt is many minutes away."""
    journal = journal_with(tmp_path, 2)
    backend = SignallingBackend(*["down"] * 12)
    backend.reachable = False
    clock = FakeClock(T0)
    s = OutboxSender(journal, backend, clock, backoff=Backoff(rng=random.Random(3)))
    for attempt in range(12):
        retry_at = s.run_once()
        assert retry_at is not None
        if attempt < 11:
            clock.advance(retry_at - clock.now())
    retry_at = s.run_once()  # the probe says down too: the head sits out its backoff
    assert retry_at is not None and s.online is False
    (next_at,) = journal.query("SELECT next_attempt_at FROM outbox WHERE id = 1")
    assert datetime.fromisoformat(next_at[0]) - clock.now() > timedelta(minutes=10)
    return s, backend, clock


def test_a_successful_payment_link_sends_the_queue_at_once(tmp_path: Path) -> None:
    s, backend, clock = backed_off_to_the_cap(tmp_path)
    at = clock.now()
    backend.reachable = True
    s.note(True)  # a payment link was created: the backend is back
    s.run_once()  # no clock movement: nothing waits out the backoff
    assert backend.accepted == ["session:S0", "session:S1"] and clock.now() == at


def test_the_sender_thread_wakes_when_a_payment_link_succeeds(tmp_path: Path) -> None:
    s, backend, _clock = backed_off_to_the_cap(tmp_path)
    backend.reachable = True
    s.start()
    try:
        assert not backend.delivered.is_set()
        s.note(True)  # from the backend owner thread; the clock stays where it is
        assert backend.delivered.wait(30), "the queue waited out its backoff"
    finally:
        s.stop()
    assert backend.accepted[0] == "session:S0"


def test_a_successful_probe_sends_the_queue_without_waiting_the_backoff(tmp_path: Path) -> None:
    s, backend, clock = backed_off_to_the_cap(tmp_path)
    backend.reachable = True
    clock.advance(timedelta(seconds=30))  # the next probe, long before the next attempt
    s.run_once()
    assert s.online is True and backend.accepted == ["session:S0", "session:S1"]


def test_a_backend_not_reached_yet_is_news_and_one_lost_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kiosk.outbox.sender")
    s = sender(journal_with(tmp_path, 0), PingableBackend(), FakeClock(T0))
    seen = []
    for online in (False, True, False):
        caplog.clear()
        s.note(online)
        seen += [(r.levelname, r.getMessage()) for r in caplog.records]
    assert seen == [
        ("INFO", "backend not reachable yet"),  # at start, before it was ever reached
        ("INFO", "backend reachable"),
        ("WARNING", "backend unreachable"),
    ]
