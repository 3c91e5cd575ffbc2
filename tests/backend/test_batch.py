"""Many reports in one request, and the same report retried at once against two server
processes sharing one PostgreSQL database: every session counts once."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from backend.config import Settings
from backend.db import Database
from backend.models import ChargingSession, Payment
from backend.stations import add_station
from drivers.backend_client import HttpBackend
from kiosk.devices import BackendAck, BackendError
from kiosk.journal.store import Journal
from kiosk.outbox.sender import OutboxSender
from kiosk.runtime.clock import FakeClock
from tests.backend.conftest import Backend, tariff
from tests.backend.servers import PostgresCluster
from tests.backend.steps import card, paid_link, session_body
from tests.backend.test_cli import Served


def counts(db: Database) -> tuple[int, int]:
    with db.read() as s:
        sessions = s.scalar(select(func.count()).select_from(ChargingSession))
        payments = s.scalar(
            select(func.count()).select_from(Payment).where(Payment.session_pk.is_not(None))
        )
    return int(sessions or 0), int(payments or 0)


def test_batch_answers_each_record_as_a_single_report_would(backend: Backend) -> None:
    with backend.station("ST") as st:
        link_id = paid_link(backend, st)
        bad = session_body("S-bad", card(9))
        del bad["tariff"]
        records: list[dict[str, Any]] = [
            session_body("S1", card(1)),
            session_body("S2", {"method": "none"}, total_cost=0, meter_end_wh=100_000),
            bad,
            session_body("S3", {"method": "link", "link_id": link_id}),
            session_body("S1", card(1)),  # the same record twice in one batch
        ]
        r = st.post("/api/v1/sessions:batch", json={"sessions": records})
        assert r.status_code == 200, r.text
        first = r.json()["results"]
        assert [x["status_code"] for x in first] == [201, 201, 422, 201, 201]
        assert [x["replayed"] for x in first] == [False, False, False, False, True]
        assert first[0]["body"]["payment_status"] == "captured"
        assert first[4]["body"] == first[0]["body"]
        assert first[2]["body"]["detail"][0]["loc"] == ["body", "tariff"]
        assert first[3]["body"]["payment_status"] == "captured"  # the QR hold was captured
        assert counts(backend.svc.db) == (3, 2)

        again = st.post("/api/v1/sessions:batch", json={"sessions": records}).json()["results"]
        assert [x["status_code"] for x in again] == [201, 201, 422, 201, 201]
        assert all(x["replayed"] for i, x in enumerate(again) if i != 2)
        assert [x["body"] for x in again] == [x["body"] for x in first]
        single = st.post("/api/v1/sessions", json=session_body("S1", card(1)))
        assert single.headers["Idempotent-Replayed"] == "true"
        assert single.json() == first[0]["body"]
        assert counts(backend.svc.db) == (3, 2)


def test_batch_needs_a_valid_key_and_a_sane_envelope(backend: Backend) -> None:
    with backend.client() as c:
        r = c.post("/api/v1/sessions:batch", json={"sessions": [session_body("S1", card(1))]})
        assert r.status_code == 401
    with backend.station("ST") as st:
        assert st.post("/api/v1/sessions:batch", json={"sessions": []}).status_code == 422
        r = st.post("/api/v1/sessions:batch", json={"sessions": [{}] * 201})
        assert r.status_code == 422
        st.headers["Authorization"] = st.headers["Authorization"][:-2] + "xx"
        r = st.post("/api/v1/sessions:batch", json={"sessions": [session_body("S1", card(1))]})
        assert r.status_code == 401
    assert counts(backend.svc.db) == (0, 0)


@pytest.mark.needs_postgres
def test_retries_across_two_server_processes_count_once(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    """Two `serve` processes on one database, as behind a load balancer: the same reports,
    sent single and batched by eight clients at once to both, are stored once each."""
    db_url = pg_cluster.new_database()
    db = Database(db_url)
    db.migrate()
    key = add_station(db, Settings(db_url=db_url), "ST")
    headers = {"Authorization": f"Bearer {key}"}
    reports = [session_body(f"S{n}", card(n)) for n in range(1, 6)]
    answers: list[dict[str, Any]] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def client(base: str, batched: bool) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
            start.wait()
            for _round in range(3):
                if batched:
                    r = c.post("/api/v1/sessions:batch", json={"sessions": reports})
                    got = [x["body"] for x in r.json()["results"]] if r.status_code == 200 else []
                else:
                    rs = [c.post("/api/v1/sessions", json=body) for body in reports]
                    r = next((x for x in rs if x.status_code != 201), rs[-1])
                    got = [x.json() for x in rs]
                with lock:
                    if r.status_code not in (200, 201):
                        failures.append(f"{r.status_code} {r.text[:200]}")
                    answers.extend(got)

    with Served(db_url) as one, Served(db_url) as two:
        threads = [
            threading.Thread(target=client, args=(server.base, batched))
            for server in (one, two)
            for batched in (False, True, False, True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    try:
        assert failures == []
        assert counts(db) == (5, 5)
        by_session: dict[str, list[dict[str, Any]]] = {}
        for a in answers:
            by_session.setdefault(a["session_id"], []).append(a)
        assert sorted(by_session) == [f"S{n}" for n in range(1, 6)]
        for same in by_session.values():
            assert len(same) == 8 * 3
            assert all(a == same[0] for a in same)  # one receipt URL: one stored session
    finally:
        db.dispose()


class CountingClient(HttpBackend):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.singles = 0
        self.batches: list[int] = []

    def report(self, kind: str, idempotency_key: str, payload: Mapping[str, object]) -> BackendAck:
        self.singles += 1
        return super().report(kind, idempotency_key, payload)

    def report_sessions(
        self, records: Sequence[tuple[str, Mapping[str, object]]]
    ) -> list[BackendAck | BackendError]:
        self.batches.append(len(records))
        return super().report_sessions(records)


def kiosk_record(n: int, *, cost: int = 420) -> dict[str, Any]:
    """A session record as the kiosk journals it (no readings: one period, all charging)."""
    return {
        "session_id": f"K{n}",
        "connector_id": "1",
        "created_at": "2026-03-02T09:00:00+00:00",
        "started_at": "2026-03-02T09:00:00+00:00",
        "ended_at": "2026-03-02T10:00:00+00:00",
        "tariff": json.dumps(tariff()),
        "currency": "EUR",
        "meter_start_wh": 100_000,
        "meter_end_wh": 110_000,
        "cost_minor": cost,
        "readings": [],
        "authorisation": {"method": "card", "amount_minor": 5000, "terminal_id": "T1",
                          "receipt_no": n},
        "final_minor": cost,
        "settlement_confirmed": True,
    }  # fmt: skip


def test_the_outbox_sends_a_backlog_in_one_request(sqlite_backend: Backend, tmp_path: Path) -> None:
    key = add_station(sqlite_backend.svc.db, sqlite_backend.svc.settings, "ST")
    journal = Journal.open(tmp_path / "journal.db")
    at = datetime(2026, 3, 2, 10, tzinfo=UTC)
    for n in range(6):
        journal.outbox_add("session", f"session:K{n}", kiosk_record(n), at)
    broken = kiosk_record(6)
    del broken["tariff"]  # cannot be sent: parked, the rest goes on
    journal.outbox_add("session", "session:K6", broken, at)
    journal.outbox_add("end_of_day", "eod:1", {"terminal_id": "T1"}, at)  # not a session
    client = CountingClient(sqlite_backend.url, key, time_zone="Europe/Berlin")
    sender = OutboxSender(journal, client, FakeClock(at))
    try:
        sender.run_once()
        assert client.batches == [7]
        assert client.singles == 1  # the end-of-day record, refused (422) and parked
        assert (sender.delivered, sender.parked) == (6, 2)
        assert counts(sqlite_backend.svc.db) == (6, 6)
        rows = journal.query("SELECT ack_json FROM outbox WHERE delivered_at IS NOT NULL")
        assert all('"status":"accepted"' in ack for (ack,) in rows)
    finally:
        client.close()
        journal.close()
