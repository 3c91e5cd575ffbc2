"""A card-present refund the kiosk made at its terminal (ZVT 06 31) reaches the books: stored
once as a succeeded refund of the session's card payment, counted in the day's refunds."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from backend import books
from backend.models import AuditEvent, Refund
from tests.backend.conftest import Backend
from tests.backend.steps import TERMINAL, card, paid_link, report, session_body

DAY = date(2026, 3, 2)


def _body(session_id: str = "S-1", amount: int = 250, receipt_no: int = 41) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "amount": amount,
        "currency": "EUR",
        "terminal_id": TERMINAL,
        "receipt_no": receipt_no,
        "trace_no": 4100 + receipt_no,
        "occurred_at": "2026-03-02T11:00:00Z",
    }


def test_card_refund_is_stored_once_and_counted(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    with b.station("ST-1") as st:
        report(st, session_body("S-1", card(1)))
        first = st.post("/api/v1/card-refunds", json=_body())
        again = st.post("/api/v1/card-refunds", json=_body())
        rec = st.get("/api/v1/reconciliation", params={"from": "2026-03-02", "to": "2026-03-02"})
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.json() == first.json()
    assert first.json()["status"] == "succeeded"
    with b.svc.db.read() as s:
        rows = s.scalars(select(Refund)).all()
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "card_refund")).all()
    assert [(r.amount_minor, r.status, r.provider, r.method) for r in rows] == [
        (250, "succeeded", "terminal", "card")
    ]
    assert rows[0].gateway_ref == f"{TERMINAL}/41" and len(audit) == 1
    day = books.books(b.svc.db, b.svc.settings, DAY, DAY).days[0]
    assert day.refunded_minor == 250 and day.providers["card"]["refunded"] == 250
    assert rec.json()["days"][0]["refunded"] == 250 and rec.json()["clean"] is True


def test_card_refund_names_what_is_wrong(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    with b.station("ST-1") as st, b.station("ST-2") as other:
        report(st, session_body("S-1", card(1)))
        report(st, session_body("S-QR", {"method": "link", "link_id": paid_link(b, st)}))
        unknown = st.post("/api/v1/card-refunds", json=_body("S-404"))
        qr = st.post("/api/v1/card-refunds", json=_body("S-QR"))
        foreign = other.post("/api/v1/card-refunds", json=_body("S-1"))
        bad = st.post("/api/v1/card-refunds", json={**_body(), "amount": -1})
    assert unknown.status_code == 404 and "session_id" in unknown.text
    assert qr.status_code == 422 and "not paid by card" in qr.text
    assert foreign.status_code == 404  # a station reports only its own sessions
    assert bad.status_code == 422 and "amount" in bad.text
    with b.svc.db.read() as s:
        assert s.scalars(select(Refund)).all() == []


def _totals(st: Any, total: int, receipts: tuple[int, int] | None) -> None:
    body: dict[str, Any] = {
        "terminal_id": TERMINAL,
        "closed_at": "2026-03-02T23:00:00Z",
        "currency": "EUR",
        "total": total,
    }
    if receipts is not None:
        body |= {"receipt_from": receipts[0], "receipt_to": receipts[1]}
    r = st.post("/api/v1/terminal-totals", json=body)
    assert r.status_code == 201, r.text


def _batch_findings(b: Backend) -> list[books.Finding]:
    result = books.books(b.svc.db, b.svc.settings, DAY, DAY)
    return [f for f in result.findings() if f.cls == "batch_total_mismatch"]


def test_the_terminals_end_of_day_is_matched_with_captures_less_its_refunds(
    backend: Backend,
) -> None:
    """The terminal's total is net of the card refunds of its batch: captures less refunds
    match it; a terminal total that ignores the refund is the one finding."""
    with backend.station("ST-1") as st:
        report(st, session_body("S-1", card(1)))
        report(st, session_body("S-2", card(2)))
        assert st.post("/api/v1/card-refunds", json=_body("S-1", 250, 3)).status_code == 201
        # A refund of another terminal, and one outside the batch's receipts, do not count.
        assert st.post("/api/v1/card-refunds", json=_body("S-2", 100, 90)).status_code == 201
        other = {**_body("S-2", 50, 2), "terminal_id": "52599999"}
        assert st.post("/api/v1/card-refunds", json=other).status_code == 201
        _totals(st, 2 * 625 - 250, (1, 3))
    assert _batch_findings(backend) == []

    with backend.station("ST-2") as st:  # planted: the terminal's total has no refund in it
        report(st, session_body("S-1", card(1)))
        assert st.post("/api/v1/card-refunds", json=_body("S-1", 250, 2)).status_code == 201
        _totals(st, 625, (1, 2))
    (found,) = _batch_findings(backend)
    assert found.station_id == "ST-2" and "less refunds of 250" in found.message


def test_a_batch_without_receipt_numbers_takes_the_refunds_since_the_last_one(
    sqlite_backend: Backend,
) -> None:
    with sqlite_backend.station("ST-1") as st:
        report(st, session_body("S-1", card(1)))
        assert st.post("/api/v1/card-refunds", json=_body("S-1", 250, 2)).status_code == 201
        _totals(st, 375, None)
    assert _batch_findings(sqlite_backend) == []
