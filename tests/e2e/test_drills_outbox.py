"""Fault drills on the way to the backend: every session arrives once, in order, whatever the
network or the backend does in between. Each drill prints its counts."""

from __future__ import annotations

from pathlib import Path

from drivers.station import BackendAccess
from tests.e2e.faultproxy import FaultProxy
from tests.e2e.rig import BackendProcess, Kiosk, kiosk


def drain(k: Kiosk, max_hours: int = 3) -> None:
    """Let fake time pass until the outbox is empty (the sender's backoff runs on it)."""
    for _ in range(max_hours * 60):
        reporting = k.snap.reporting
        assert reporting is not None
        if reporting.outbox_queued == 0:
            return
        k.advance(60, step=60)
    raise AssertionError(f"outbox not drained: {k.snap.reporting}")


def stored_ids(backend: BackendProcess) -> list[str]:
    return [s["session_id"] for s in backend.sessions()]


def test_backend_down_for_a_day_of_sessions_then_back(
    backend: BackendProcess, workdir: Path
) -> None:
    before = stored_ids(backend)
    with FaultProxy(backend.url) as proxy:
        proxy.mode = "down"
        access = BackendAccess(proxy.url, backend.token)
        with kiosk(workdir, access, hold=3000) as k:
            k.advance(31)
            assert k.snap.qr_available is False  # offline: no QR option, cards still work
            sids = []
            for _ in range(12):  # one session every two hours, for a day
                sids.append(k.charge_by_card(seconds=120))
                k.advance(2 * 3600 - 140, step=600)
            reporting = k.snap.reporting
            assert reporting is not None and reporting.outbox_queued == 12
            assert reporting.backend_online is False and reporting.outbox_last_error
            failed_attempts = proxy.seen["down"]
            proxy.mode = "ok"
            drain(k)
            assert k.snap.qr_available is True
            day = k.clock.now()
    new = [sid for sid in stored_ids(backend) if sid not in before]
    assert new == sids  # each once, in the order the kiosk closed them
    assert proxy.forwarded_reports == 1  # the backlog went in one batch, no repeat needed
    print(
        f"\ndrill backend-down-a-day: sessions={len(sids)} refused_connections={failed_attempts}"
        f" delivered={len(new)} duplicates={len(new) - len(set(new))} lost={len(sids) - len(new)}"
    )
    report = backend.reconciliation(day)
    assert report["clean"] is True, report


def test_500_timeout_and_truncated_answers_deliver_each_session_once(
    backend: BackendProcess, workdir: Path
) -> None:
    before = stored_ids(backend)
    with FaultProxy(backend.url) as proxy:
        proxy.hang_s = 1.5
        access = BackendAccess(proxy.url, backend.token)
        with kiosk(workdir, access, hold=3000, timeout_s=0.5) as k:
            sids = []
            for faults in (["500", "500"], ["timeout"], ["truncate"], ["500", "truncate"]):
                proxy.script = list(faults)
                sids.append(k.charge_by_card(seconds=60))
                drain(k)
            state = k.station.runtime.journal.query(
                "SELECT idempotency_key, attempts FROM outbox ORDER BY id"
            )
    new = [sid for sid in stored_ids(backend) if sid not in before]
    assert new == sids
    attempts = {key: n for key, n in state}
    # Each fault costs one attempt; a busy machine may add a timeout of its own (0.5 s here),
    # never take one away: every fault was retried, and each session is stored once (above).
    tried = [attempts[f"session:{sid}"] for sid in sids]
    assert all(n >= least for n, least in zip(tried, [3, 2, 2, 3], strict=True)), tried
    print(
        f"\ndrill 500/timeout/truncated: sessions={len(sids)} faults={dict(proxy.seen)}"
        f" forwarded={proxy.forwarded_reports} stored={len(new)} duplicates=0 lost=0"
    )
