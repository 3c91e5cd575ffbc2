"""Request bodies and steps shared by the backend tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.backend.conftest import Backend, tariff

TERMINAL = "52500001"


def link_body(amount: int = 5000, **extra: Any) -> dict[str, Any]:
    return {"connector_id": "1", "amount": amount, "currency": "EUR", "tariff": tariff(), **extra}


def pay(backend: Backend, link_id: str, card: str = "4242424242424242") -> int:
    """Submit the pay form as a phone would (form post over HTTP); returns the status code."""
    with backend.client() as c:
        r = c.post(f"/pay/{link_id}", data={"card_number": card, "expiry": "12/30", "cvc": "123"})
    return r.status_code


def session_body(session_id: str, payment: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A one-hour session of 10 kWh: 10 x 0.49 + 0.35 flat, + 19 % VAT = EUR 6.25."""
    body: dict[str, Any] = {
        "session_id": session_id,
        "connector_id": "1",
        "start_date_time": "2026-03-02T09:00:00Z",
        "end_date_time": "2026-03-02T10:00:00Z",
        "meter_start_wh": 100_000,
        "meter_end_wh": 110_000,
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
        "tariff": tariff(),
        "total_cost": 625,
        "payment": payment,
    }
    body.update(extra)
    return body


def card(receipt_no: int, captured: int | None = 625, authorized: int = 5000) -> dict[str, Any]:
    return {
        "method": "card",
        "terminal_id": TERMINAL,
        "receipt_no": receipt_no,
        "trace_no": 1000 + receipt_no,
        "card_brand": "girocard",
        "masked_pan": "672559******1234",
        "authorized_amount": authorized,
        "captured_amount": captured,
        "status": "captured" if captured is not None else "authorized",
    }


def paid_link(backend: Backend, st: httpx.Client, amount: int = 5000) -> str:
    link = st.post("/api/v1/payment-links", json=link_body(amount)).json()
    assert pay(backend, link["id"]) == 303
    return str(link["id"])


def report(st: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    r = st.post("/api/v1/sessions", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())
