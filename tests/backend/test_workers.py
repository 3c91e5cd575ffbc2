"""The fleet deployment: several server processes on one database (PostgreSQL, as behind a
proxy; or one SQLite file). The same QR-paid report, retried at once at every process, is
stored once and its hold captured once, for the computed cost; every retry gets the first
answer."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from backend.config import Settings
from backend.db import Database
from backend.models import ChargingSession, Payment, SandboxIntent
from backend.stations import add_station
from tests.backend.conftest import db_url_for
from tests.backend.steps import card, link_body, session_body
from tests.backend.test_cli import Served

CLIENTS_PER_PROCESS = 4


@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)]
)
def test_a_report_retried_at_two_processes_is_stored_and_captured_once(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db_url = db_url_for(kind, tmp_path, request)
    db = Database(db_url)
    db.migrate()
    key = add_station(db, Settings(db_url=db_url), "ST")
    headers = {"Authorization": f"Bearer {key}"}
    answers: list[dict[str, Any]] = []
    failures: list[str] = []
    lock = threading.Lock()
    with Served(db_url) as one, Served(db_url) as two:
        link = httpx.post(
            f"{one.base}/api/v1/payment-links", json=link_body(), headers=headers, timeout=30
        ).json()
        paid = httpx.post(
            f"{two.base}/pay/{link['id']}",
            data={"card_number": "4242424242424242", "expiry": "12/30", "cvc": "123"},
            timeout=30,
        )
        assert paid.status_code == 303, paid.text
        qr = session_body("Q1", {"method": "link", "link_id": link["id"]})
        reports = [qr, session_body("C1", card(1))]
        start = threading.Barrier(2 * CLIENTS_PER_PROCESS)

        def client(base: str, batched: bool) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
                start.wait()
                for _round in range(3):
                    if batched:
                        r = c.post("/api/v1/sessions:batch", json={"sessions": reports})
                        ok = r.status_code == 200
                        got = (
                            [(x["status_code"], x["body"]) for x in r.json()["results"]]
                            if ok
                            else []
                        )
                    else:
                        rs = [c.post("/api/v1/sessions", json=body) for body in reports]
                        got = [(x.status_code, x.json()) for x in rs]
                        ok = True
                    with lock:
                        if not ok:
                            failures.append(f"{r.status_code} {r.text[:200]}")
                        for status, body in got:
                            if status == 201:
                                answers.append(body)
                            elif status != 503:  # 503: the first is still capturing; retry
                                failures.append(f"{status} {body}")

        threads = [
            threading.Thread(target=client, args=(server.base, n % 2 == 1))
            for server in (one, two)
            for n in range(CLIENTS_PER_PROCESS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    try:
        assert failures == []
        with db.read() as s:
            sessions = s.scalar(select(func.count()).select_from(ChargingSession))
            link_payments = s.scalars(select(Payment).where(Payment.method == "link")).all()
            intents = s.scalars(select(SandboxIntent)).all()
        assert sessions == 2
        assert [(p.status, p.captured_minor) for p in link_payments] == [("captured", 625)]
        assert [(i.status, i.amount_received) for i in intents] == [("succeeded", 625)]
        by_session: dict[str, list[dict[str, Any]]] = {}
        for a in answers:
            by_session.setdefault(a["session_id"], []).append(a)
        assert sorted(by_session) == ["C1", "Q1"]
        for same in by_session.values():
            assert all(a == same[0] for a in same)  # one receipt URL: one stored session
        assert by_session["Q1"][0]["payment_status"] == "captured"
        assert by_session["Q1"][0]["captured"] == 625
    finally:
        db.dispose()
