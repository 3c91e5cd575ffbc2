"""On PostgreSQL a card or unpaid session report is stored from the event loop through psycopg's
async API (backend.ingest_async), not in an ingest thread: the same answers, the same rows,
each session counted once, also when reports of one session race."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import func, select

from backend import direct_sql, ingest, ingest_async, ingest_plain, jsonutil, report_handlers
from backend.config import Settings
from backend.db import Database
from backend.models import ChargingSession, IdempotentResponse, Payment
from backend.schemas import SessionReport
from backend.stations import add_station, rotate_key
from tests.backend.conftest import Backend, start_backend
from tests.backend.servers import PostgresCluster
from tests.backend.steps import card, session_body

pytestmark = pytest.mark.needs_postgres


@pytest.fixture
def pg_backend(pg_cluster: PostgresCluster) -> Any:
    server, backend = start_backend(pg_cluster.new_database())
    with server:
        yield backend
    backend.svc.close()


def _count(backend: Backend, model: Any) -> int:
    with backend.svc.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_card_reports_are_stored_and_replayed_without_an_ingest_thread(
    pg_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_thread(*_args: Any) -> Any:
        raise AssertionError("a card report went to an ingest thread")

    assert pg_backend.svc.fast_ingest is not None  # opened by the app's lifespan
    monkeypatch.setattr(report_handlers, "in_ingest_thread", no_thread)
    body = session_body("S-LOOP", card(7))
    keyed = {"Idempotency-Key": "session:S-LOOP"}
    with pg_backend.station("ST-LOOP") as st:
        first = st.post("/api/v1/sessions", json=body, headers=keyed)
        by_key = st.post("/api/v1/sessions", json=body, headers=keyed)
        by_id = st.post("/api/v1/sessions", json=body)
        reused = st.post("/api/v1/sessions", json={**body, "total_cost": 1}, headers=keyed)
        unpaid = st.post(
            "/api/v1/sessions", json=session_body("S-FREE", {"method": "none"}, total_cost=625)
        )
        stranger = httpx.post(
            f"{pg_backend.url}/api/v1/sessions",
            json=body,
            headers={"Authorization": "Bearer evk_0123456789abcdef_" + "x" * 43},
        )
    assert first.status_code == 201, first.text
    assert first.json()["payment_status"] == "captured"
    assert first.json()["computed_cost"] == 625
    assert [by_key.status_code, by_id.status_code] == [201, 201]
    assert by_key.json() == by_id.json() == first.json()
    assert by_key.headers.get("Idempotent-Replayed") == "true"
    assert by_id.headers.get("Idempotent-Replayed") == "true"
    assert reused.status_code == 422
    assert unpaid.status_code == 201, unpaid.text
    assert unpaid.json()["payment_status"] == "none"
    assert stranger.status_code == 401
    assert _count(pg_backend, ChargingSession) == 2
    assert _count(pg_backend, Payment) == 1
    assert _count(pg_backend, IdempotentResponse) == 1
    with pg_backend.svc.db.read() as s:
        row = s.scalars(select(ChargingSession).where(ChargingSession.session_id == "S-LOOP")).one()
    assert row.response == first.json()
    assert row.computed_minor == 625


def test_racing_reports_of_one_card_session_count_once(pg_backend: Backend) -> None:
    body = session_body("S-RACE", card(8))
    answers: list[httpx.Response] = []
    go = threading.Barrier(8)
    with pg_backend.station("ST-RACE") as st:

        def send() -> None:
            go.wait(10)
            answers.append(st.post("/api/v1/sessions", json=body))

        threads = [threading.Thread(target=send) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1  # every repeat got the first answer
    assert _count(pg_backend, ChargingSession) == 1
    assert _count(pg_backend, Payment) == 1


class _RacingCursor:
    """An async cursor on which another report of the same session is stored just before
    this one's INSERT: the race two reports of one session run, made certain."""

    def __init__(self, cursor: Any, other_report: Any) -> None:
        self.cursor = cursor
        self.other_report = other_report

    async def execute(self, sql: str, params: Any) -> None:
        if not sql.lstrip().upper().startswith("SELECT"):
            self.other_report()
        await self.cursor.execute(sql, params)

    async def fetchone(self) -> Any:
        return await self.cursor.fetchone()


class _RacingSyncCursor:
    """The same race on the blocking path's cursor (backend.direct_sql)."""

    def __init__(self, cursor: direct_sql.Cursor, other_report: Any) -> None:
        self.cursor = cursor
        self.other_report = other_report

    def execute(self, statement: direct_sql.Statement, values: Any) -> None:
        if not statement.sql.lstrip().upper().startswith("SELECT"):
            self.other_report()
        self.cursor.execute(statement, values)

    def first(self, statement: direct_sql.Statement, values: Any) -> Any:
        return self.cursor.first(statement, values)


@pytest.mark.parametrize("path", ["event loop", "ingest thread"])
def test_a_report_that_loses_the_insert_to_a_concurrent_one_answers_as_it_did(
    pg_cluster: PostgresCluster, path: str
) -> None:
    url = pg_cluster.new_database()
    db = Database(url)
    db.migrate()
    settings = Settings(db_url=url)
    caller = ingest.Caller(f"Bearer {add_station(db, settings, 'ST-RACE')}")
    exact = jsonutil.loads(json.dumps(session_body("S-RACE", card(9))))
    report = SessionReport.model_validate(exact)
    computed = report_handlers.recompute_report(report, exact)
    steps = ingest_plain.session_steps(
        db.engine.dialect,
        caller,
        report=report,
        exact=exact,
        computed=computed,
        receipt_url=lambda receipt: f"http://backend/r/{receipt}",
        now=settings.now(),
    )

    def other_report() -> None:
        ingest_plain.store_session(
            db, settings, None, caller, report=report, exact=exact, computed=computed,  # type: ignore[arg-type]
            receipt_url=lambda receipt: f"http://backend/r/{receipt}",
        )  # fmt: skip

    async def lose_the_race() -> ingest_plain.Repeat:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            with pytest.raises(ingest_plain.Repeat) as lost:
                await ingest_async.run(_RacingCursor(conn.cursor(), other_report), steps)
        return lost.value

    def lose_the_race_in_a_thread() -> ingest_plain.Repeat:
        with direct_sql.connection(db.engine) as cur, pytest.raises(ingest_plain.Repeat) as lost:
            racing: Any = _RacingSyncCursor(cur, other_report)
            ingest_plain.run(racing, steps, psycopg.IntegrityError)
        return lost.value

    try:
        lost = asyncio.run(lose_the_race()) if path == "event loop" else lose_the_race_in_a_thread()
        assert lost.response == {}  # the winner's answer is read after the transaction
        answer = ingest.first_answer(db, lost.station_id, "S-RACE", lost.response)
        with db.read() as s:
            stored = s.scalars(select(ChargingSession)).one()
            assert _count_in(s, Payment) == 1
        assert answer.replayed
        assert answer.body == stored.response
        assert answer.body["payment_status"] == "captured"
    finally:
        db.dispose()


def _count_in(s: Any, model: Any) -> int:
    return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_known_key_still_gets_its_whole_check_a_rotated_or_wrong_one_is_refused(
    pg_backend: Backend,
) -> None:
    # After a station's first report its next ones are written in one round trip, the key
    # checked by the INSERT itself: a wrong secret or a rotated key stores nothing.
    with pg_backend.station("ST-KEY") as st:
        old = st.headers["Authorization"]
        assert st.post("/api/v1/sessions", json=session_body("S-1", card(1))).status_code == 201
        assert st.post("/api/v1/sessions", json=session_body("S-2", card(2))).status_code == 201
        wrong = old[:-4] + ("AAAA" if not old.endswith("AAAA") else "BBBB")
        refused = st.post(
            "/api/v1/sessions",
            json=session_body("S-3", card(3)),
            headers={"Authorization": wrong},
        )
        assert refused.status_code == 401
        new = f"Bearer {rotate_key(pg_backend.svc.db, 'ST-KEY')}"
        stale = st.post(
            "/api/v1/sessions", json=session_body("S-4", card(4)), headers={"Authorization": old}
        )
        assert stale.status_code == 401
        fresh = st.post(
            "/api/v1/sessions", json=session_body("S-5", card(5)), headers={"Authorization": new}
        )
        assert fresh.status_code == 201, fresh.text
        again = st.post(
            "/api/v1/sessions", json=session_body("S-6", card(6)), headers={"Authorization": new}
        )
        assert again.status_code == 201, again.text
    with pg_backend.svc.db.read() as s:
        stored = sorted(s.scalars(select(ChargingSession.session_id)))
    assert stored == ["S-1", "S-2", "S-5", "S-6"]
    assert _count(pg_backend, Payment) == 4
