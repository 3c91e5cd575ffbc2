"""Every card report is priced again from its own tariff snapshot, one by one and in a batch:
a reported cost that does not match its tariff is stored with both figures and answered as a
mismatch, and a batch's rows are stored exactly as single reports store them."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import FromClause, select, text

from backend import json_rows
from backend.models import ChargingSession, Payment
from tests.backend.conftest import Backend, tariff
from tests.backend.steps import card, session_body


def dearer() -> dict[str, Any]:
    """The test tariff with energy at 0.59 instead of 0.49: the test session costs 7.44."""
    changed = tariff()
    changed["elements"][1]["price_components"][0]["price"] = 0.59
    return changed


def figures(backend: Backend) -> dict[str, tuple[int, int]]:
    """session id -> (reported, computed) minor units, as stored."""
    with backend.svc.db.read() as s:
        rows = s.execute(
            select(
                ChargingSession.session_id,
                ChargingSession.reported_minor,
                ChargingSession.computed_minor,
            )
        )
        return {sid: (reported, computed) for sid, reported, computed in rows}


def test_a_cost_that_does_not_match_its_tariff_is_found_one_by_one_and_batched(
    backend: Backend,
) -> None:
    with backend.station("ST") as st:
        single = [
            session_body("S1", card(1)),
            session_body("S2", card(2), total_cost=999),
            session_body("S3", card(3), tariff=dearer()),  # priced at 0.49, sent with 0.59
            session_body("S4", card(4), tariff=dearer(), total_cost=744),
        ]
        answers = [st.post("/api/v1/sessions", json=body) for body in single]
        assert [a.status_code for a in answers] == [201] * 4
        batch = [
            {**body, "session_id": f"B{body['session_id']}", "payment": card(10 + i)}
            for i, body in enumerate(single)
        ]
        results = st.post("/api/v1/sessions:batch", json={"sessions": batch}).json()["results"]
        assert [r["status_code"] for r in results] == [201] * 4
    for bodies in ([a.json() for a in answers], [r["body"] for r in results]):
        assert [b["cost_mismatch"] for b in bodies] == [False, True, True, False]
        assert [b["computed_cost"] for b in bodies] == [625, 625, 744, 744]
        assert [b["reported_cost"] for b in bodies] == [625, 999, 625, 744]
        assert [b["captured"] for b in bodies] == [625] * 4  # what the card was charged
    stored = figures(backend)
    for prefix in ("", "B"):
        assert [stored[f"{prefix}S{i}"] for i in range(1, 5)] == [
            (625, 625),
            (999, 625),
            (625, 744),
            (744, 744),
        ]


DECIMAL = "<1.250>"  # sent as the JSON number 1.250, three places


def post(
    st: httpx.Client, path: str, doc: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    body = json.dumps(doc).replace(f'"{DECIMAL}"', "1.250")
    return st.post(
        path, content=body, headers={"Content-Type": "application/json", **(headers or {})}
    )


def _columns(table: FromClause, *left_out: str) -> list[str]:
    return [c.name for c in table.c if c.name not in left_out]


@pytest.mark.needs_postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_reports_written_from_json_documents_store_what_the_per_column_insert_stores(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a report's rows (one by one and batched) go in as JSON documents
    (backend.json_rows): the same values, JSON columns character for character, as the
    per-column INSERT writes, which stays for a NUL the documents cannot carry."""
    odd = {
        "cdr": {"note": 'caf\u00e9 \u2603 \U0001f50c "q" \\ 0.5', "n": DECIMAL},
        "charging_periods": [
            {
                "start_date_time": "2026-03-02T09:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": 10.000}],
            }
        ],
    }
    bodies = [
        session_body("1", card(1), **odd),
        session_body("2", {"method": "none"}, total_cost=0, meter_end_wh=100_000),
        session_body("3", card(3), start_date_time="2026-03-02T10:00:00.250+01:00"),
    ]
    nul = session_body("N4", card(4), cdr={"note": "a\u0000b"})

    def as_(prefix: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records under other session ids and receipt numbers."""
        out = [{**b, "session_id": prefix + b["session_id"]} for b in records]
        for b in out:
            if b["payment"]["method"] == "card":
                receipt_no = b["payment"]["receipt_no"] + 10 * " RSB".index(prefix)
                b["payment"] = card(receipt_no)
        return out

    with backend.station("ST") as st:
        for body in [nul, *as_("S", bodies)]:
            headers = {"Idempotency-Key": "key-" + body["session_id"]}
            assert post(st, "/api/v1/sessions", body, headers).status_code == 201
        batch = post(st, "/api/v1/sessions:batch", {"sessions": [*as_("B", bodies), nul]})
        results = batch.json()["results"]
        assert [x["status_code"] for x in results] == [201, 201, 201, 201], batch.text
        assert results[-1]["replayed"] is True  # stored one by one above
        assert post(st, "/api/v1/sessions:batch", {"sessions": as_("B", [nul])}).status_code == 200
        with monkeypatch.context() as m:  # the reference: the per-column INSERT
            m.setattr(json_rows, "documents", lambda *_: None)
            for body in as_("R", bodies):
                headers = {"Idempotency-Key": "key-" + body["session_id"]}
                assert post(st, "/api/v1/sessions", body, headers).status_code == 201

    sessions = _columns(ChargingSession.__table__, "pk", "session_id", "receipt_id", "response")
    payments = _columns(Payment.__table__, "id", "session_pk", "receipt_no", "trace_no")
    # JSON columns as text: what is stored, not what it parses to.
    shown = ", ".join(f"s.{c}::text" for c in sessions)
    paid = ", ".join(f"p.{c}::text" for c in payments)
    query = text(
        f"SELECT s.session_id, {shown}, {paid}, p.receipt_no % 10, s.response::text, "
        "k.body::text, k.endpoint, k.status_code, k.request_hash <> '', k.created_at "
        "FROM sessions s LEFT JOIN payments p ON p.session_pk = s.pk "
        "LEFT JOIN idempotency k ON k.station_id = s.station_id "
        "AND k.key = 'key-' || s.session_id ORDER BY s.session_id"
    )
    with backend.svc.db.read() as s:
        rows = {row[0]: row[1:] for row in s.execute(query)}
    assert len(rows) == 11
    link = re.compile(r'"receipt_url": "[^"]*"')

    def same(row: tuple[Any, ...], sid: str) -> tuple[Any, ...]:
        """A row with its session id and receipt link taken out of the answers."""
        return tuple(
            link.sub("", v).replace(f'"{sid}"', '"?"') if isinstance(v, str) else v for v in row
        )

    for n in ("1", "2", "3"):
        reference = same(rows["R" + n], "R" + n)
        assert same(rows["S" + n], "S" + n) == reference, n
        assert same(rows["B" + n], "B" + n)[:-5] == reference[:-5], n  # a batch has no keys
        assert rows["B" + n][-5] is None
    assert rows["R1"][-5] is not None
    assert (
        '"note": "caf\\u00e9 \\u2603 \\ud83d\\udd0c \\"q\\" \\\\ 0.5", "n": 1.250'
        in (rows["S1"][sessions.index("cdr")])
    )
    for sid in ("N4", "BN4"):
        assert rows[sid][sessions.index("cdr")].startswith('{"note": "a\\u0000b"')
