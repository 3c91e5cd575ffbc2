"""Session reports take a lean path past FastAPI's route machinery (backend.report_lane) and
a direct SQL path to the database (backend.direct_sql): every request it does not store is
answered exactly as the FastAPI route answers it, and a connection PostgreSQL dropped costs
one request, not every later one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from backend import jsonutil, report_lane
from backend.models import IdempotentResponse
from tests.backend.conftest import Backend, start_backend
from tests.backend.servers import PostgresCluster
from tests.backend.steps import card, session_body

UNKNOWN_KEY = "Bearer evk_0123456789abcdef_" + "x" * 43


def _refused_requests(key: str) -> list[tuple[str, dict[str, str], bytes]]:
    """(path, headers, body) of requests that store nothing: each is refused somewhere."""
    good = session_body("S-LANE", card(1))
    auth = {"Authorization": key, "Content-Type": "application/json"}

    def body(**change: Any) -> bytes:
        return json.dumps({**good, **change}).encode()

    bad_tariff = {**good["tariff"], "currency": "USD"}
    return [
        ("/api/v1/sessions", {"Content-Type": "application/json"}, body()),
        ("/api/v1/sessions", {**auth, "Authorization": "Bearer nonsense"}, body()),
        ("/api/v1/sessions", {**auth, "Authorization": UNKNOWN_KEY}, body()),
        ("/api/v1/sessions", {**auth, "Authorization": "Basic abc"}, body()),
        ("/api/v1/sessions", auth, b"{not json"),
        ("/api/v1/sessions", auth, b""),
        ("/api/v1/sessions", auth, b"[1, 2]"),
        ("/api/v1/sessions", auth, body(meter_end_wh=float("nan")).replace(b"NaN", b"NaN")),
        ("/api/v1/sessions", {"Authorization": key}, body()),
        ("/api/v1/sessions", {**auth, "Content-Type": "text/plain"}, body()),
        ("/api/v1/sessions", {**auth, "Idempotency-Key": "k" * 256}, body()),
        ("/api/v1/sessions", auth, body(unknown_field=1)),
        ("/api/v1/sessions", auth, body(total_cost=-1)),
        ("/api/v1/sessions", auth, body(tariff=bad_tariff)),
        ("/api/v1/sessions", auth, body(meter_end_wh=1)),
        ("/api/v1/sessions", auth, body(payment={"method": "link", "link_id": "L-NONE"})),
        ("/api/v1/sessions:batch", auth, b'{"sessions": []}'),
        ("/api/v1/sessions:batch", auth, b'{"sessions": "S1"}'),
        ("/api/v1/sessions:batch", {**auth, "Authorization": UNKNOWN_KEY}, body()),
        ("/api/v1/sessions:batch", auth, json.dumps({"sessions": [{"x": 1}, 2]}).encode()),
    ]


def _answers(client: httpx.Client, requests: list[tuple[str, dict[str, str], bytes]]) -> list[Any]:
    out = []
    for path, headers, content in requests:
        r = client.post(path, headers=headers, content=content)
        assert r.status_code < 500, r.text
        out.append((r.status_code, r.json(), r.headers.get("www-authenticate")))
    return out


@pytest.fixture
def backend_with_key(backend: Backend) -> Iterator[tuple[Backend, str]]:
    # On PostgreSQL a card report is stored from the event loop (backend.ingest_async).
    with backend.station("ST-LANE") as st:
        yield backend, st.headers["Authorization"]


def test_refused_reports_are_answered_as_the_fastapi_route_answers_them(
    backend_with_key: tuple[Backend, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, key = backend_with_key
    requests = _refused_requests(key)
    with backend.client() as client:
        lane = _answers(client, requests)

        async def route_only(*_args: Any) -> None:
            return None  # every request goes on to the FastAPI route

        monkeypatch.setattr(report_lane.ReportLane, "_answer", route_only)
        route = _answers(client, requests)
    assert lane == route
    statuses = [status for status, _, _ in lane]
    assert all(400 <= s < 500 or s == 200 for s in statuses), statuses
    assert lane[4][1]["detail"][0]["type"] == "json_invalid"
    assert lane[10][1]["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert lane[15][0] == 404  # the link is not this station's
    with backend.client() as client:
        answer = client.get("/api/v1/sessions/S-LANE", headers={"Authorization": key})
    assert answer.status_code == 404  # none of them stored the session


def test_a_report_in_any_json_media_type_is_stored_once(
    backend_with_key: tuple[Backend, str],
) -> None:
    backend, key = backend_with_key
    body = json.dumps(session_body("S-JSON", card(2))).encode()
    with backend.client() as client:
        answers = [
            client.post(
                "/api/v1/sessions",
                content=body,
                headers={"Authorization": key, "Content-Type": kind},
            )
            for kind in ("application/json; charset=utf-8", "application/vnd.evk+json")
        ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1].headers.get("idempotent-replayed") == "true"
    assert answers[0].json() == answers[1].json()


@pytest.mark.needs_postgres
def test_a_connection_postgresql_dropped_fails_one_report_not_the_next(
    pg_cluster: PostgresCluster,
) -> None:
    url = pg_cluster.new_database()
    server, backend = start_backend(url)
    with server, backend.station("ST-DROP") as st:
        assert st.post("/api/v1/sessions", json=session_body("S-1", card(1))).status_code == 201
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        key = st.headers["Authorization"]
        statuses = [_status(backend, key, session_body(f"S-{n}", card(n))) for n in range(2, 6)]
    backend.svc.close()
    assert statuses[1:] == [201, 201, 201], statuses  # the pool opened new connections
    assert statuses[0] in (201, 500, None), statuses


def _status(backend: Backend, key: str, body: dict[str, Any]) -> int | None:
    """The answer's status on a new HTTP connection (the server closes one that got a 500);
    None when the server closed it instead of answering."""
    with backend.client() as client:
        try:
            return client.post(
                "/api/v1/sessions", json=body, headers={"Authorization": key}
            ).status_code
        except httpx.TransportError:
            return None


def test_a_report_sent_again_with_its_idempotency_key_gets_the_first_answer(
    backend_with_key: tuple[Backend, str],
) -> None:
    # The outbox's retry after a kill between the backend's answer and the journal: the key's
    # stored answer (with its time) is read back on every database.
    backend, key = backend_with_key
    body = session_body("S-KEYED", card(3))
    headers = {"Authorization": key, "Idempotency-Key": "session:S-KEYED"}
    with backend.client() as client:
        answers = [client.post("/api/v1/sessions", json=body, headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201], answers[1].text
    assert answers[1].headers.get("idempotent-replayed") == "true"
    assert answers[0].json() == answers[1].json()
    # The key's answer is stored with the hash of the body's exact JSON (as every release wrote
    # it: a retry across an upgrade still matches), and a changed body is refused.
    with backend.svc.db.read() as s:
        stored = s.get(IdempotentResponse, ("ST-LANE", "session:S-KEYED"))
        assert stored is not None
    exact = jsonutil.dumps(jsonutil.loads(json.dumps(body)))
    assert stored.request_hash == hashlib.sha256(exact.encode()).hexdigest()
    changed = {**body, "tariff": {**body["tariff"], "id": "OTHER"}}
    with backend.client() as client:
        refused = client.post("/api/v1/sessions", json=changed, headers=headers)
    assert refused.status_code == 422, refused.text
    assert "already used with a different request" in refused.json()["detail"]
