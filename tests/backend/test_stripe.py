"""The Stripe adapter: webhook signatures per Stripe's scheme, and the QR path end to end
against a Stripe API simulator on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.gateways import GatewayError
from backend.gateways.stripe import StripeGateway, WebhookSignatureError, verify_webhook
from tests.backend.conftest import Backend, start_backend
from tests.backend.servers import UvicornThread
from tests.backend.steps import link_body, session_body
from tests.backend.stripe_sim import StripeSimulator

SECRET = "whsec_test"
EVENT = b'{"id": "evt_1", "object": "event", "type": "payment_intent.canceled", "data": {}}'
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T = int(NOW.timestamp())


def stripe_header(payload: bytes, secret: str, t: int) -> str:
    # Written out from Stripe's documentation, independently of the code under test.
    sig = hmac.new(secret.encode(), f"{t}.{payload.decode()}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={sig}"


def test_valid_signature_is_accepted() -> None:
    event = verify_webhook(EVENT, stripe_header(EVENT, SECRET, T), SECRET, NOW)
    assert event["id"] == "evt_1"


def test_any_matching_v1_during_secret_rotation_is_accepted() -> None:
    old = stripe_header(EVENT, "whsec_old", T).split(",")[1]
    header = f"t={T},{old},{stripe_header(EVENT, SECRET, T).split(',')[1]},v0=ignored"
    assert verify_webhook(EVENT, header, SECRET, NOW)["id"] == "evt_1"


@pytest.mark.parametrize(
    ("payload", "header", "why"),
    [
        (EVENT, stripe_header(EVENT, "whsec_other", T), "does not match"),
        (EVENT.replace(b"evt_1", b"evt_2"), stripe_header(EVENT, SECRET, T), "does not match"),
        (EVENT, stripe_header(EVENT, SECRET, T - 301), "old"),
        (EVENT, stripe_header(EVENT, SECRET, T + 301), "in the future"),
        (EVENT, stripe_header(EVENT, SECRET, T + 3600), "3600 s in the future"),
        (EVENT, stripe_header(EVENT, SECRET, T).replace(f"t={T}", "t=" + "9" * 5000), "no time"),
        (EVENT, f"t={T}", "no v1"),
        (EVENT, stripe_header(EVENT, SECRET, T).split(",")[1], "no timestamp"),
        (EVENT, "", "missing"),
        (b"not json", stripe_header(b"not json", SECRET, T), "not JSON"),
        (b"[]", stripe_header(b"[]", SECRET, T), "not a Stripe event"),
    ],
)
def test_bad_signatures_are_rejected(payload: bytes, header: str, why: str) -> None:
    with pytest.raises(WebhookSignatureError, match=why):
        verify_webhook(payload, header or None, SECRET, NOW)


def test_tolerance_boundary() -> None:
    verify_webhook(EVENT, stripe_header(EVENT, SECRET, T - 300), SECRET, NOW)
    verify_webhook(EVENT, stripe_header(EVENT, SECRET, T + 300), SECRET, NOW)


@pytest.fixture
def stripe_sim() -> Iterator[StripeSimulator]:
    sim = StripeSimulator("sk_test_123", SECRET)
    server = UvicornThread(lambda url: sim.app)
    sim.base_url = server.url
    with server:
        yield sim


@pytest.fixture
def stripe_backend(stripe_sim: StripeSimulator, tmp_path: Path) -> Iterator[Backend]:
    server, b = start_backend(
        f"sqlite:///{tmp_path / 'backend.db'}",
        gateway="stripe",
        stripe_api_key="sk_test_123",
        stripe_api_base=stripe_sim.base_url,
        stripe_webhook_secret=SECRET,
    )
    b.clock.now_value = datetime.now(UTC)  # webhooks are signed with the real time
    stripe_sim.webhook_url = f"{server.url}/webhooks/stripe"
    with server:
        yield b
    b.svc.close()


def _checkout(b: Backend, link_id: str) -> str:
    with b.client() as phone:
        r = phone.post(f"/pay/{link_id}/checkout")
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def test_qr_path_through_stripe_captures_the_computed_cost(
    stripe_backend: Backend, stripe_sim: StripeSimulator
) -> None:
    b = stripe_backend
    with b.station("ST") as st:
        link = st.post("/api/v1/payment-links", json=link_body(5000)).json()
        with b.client() as phone:
            page = phone.get(f"/pay/{link['id']}")
        assert page.status_code == 200 and "Card number" not in page.text  # Stripe hosts it
        cs = _checkout(b, link["id"])
        assert _checkout(b, link["id"]) == cs  # same idempotency key: the same session
        seen: dict[str, Any] = {}
        poll = threading.Thread(
            target=lambda: seen.update(
                st.get(
                    f"/api/v1/payment-links/{link['id']}",
                    params={"wait": 20, "status": "pending"},
                ).json()
            )
        )
        poll.start()
        time.sleep(0.2)
        assert stripe_sim.complete_checkout(cs).json() == {"result": "authorized"}
        poll.join(25)
        assert seen["status"] == "authorized"
        r = st.post(
            "/api/v1/sessions", json=session_body("S1", {"method": "link", "link_id": link["id"]})
        )
    assert r.json()["captured"] == 625
    intent = stripe_sim.intents[stripe_sim.sessions[cs]["payment_intent"]]
    assert intent["status"] == "succeeded" and intent["amount_received"] == 625
    keys = [k for path, k in stripe_sim.requests if path.endswith("/capture")]
    assert keys == [f"capture:{link['id']}"]


def test_capture_retry_after_gateway_error_captures_once(
    stripe_backend: Backend, stripe_sim: StripeSimulator
) -> None:
    b = stripe_backend
    with b.station("ST") as st:
        link = st.post("/api/v1/payment-links", json=link_body(5000)).json()
        stripe_sim.complete_checkout(_checkout(b, link["id"]))
        stripe_sim.faults["capture"] = 1
        body = st.post(
            "/api/v1/sessions", json=session_body("S1", {"method": "link", "link_id": link["id"]})
        ).json()
        assert body["payment_status"] == "capture_pending"
        assert b.svc.settler.sweep()["settled"] == 1
        assert b.svc.settler.sweep()["settled"] == 0
    captures = [p for p, _k in stripe_sim.requests if p.endswith("/capture")]
    assert len(captures) == 2  # the failed one and the retry; never a third
    assert sum(i["amount_received"] for i in stripe_sim.intents.values()) == 625


def test_cancelled_link_cancels_the_payment_intent(
    stripe_backend: Backend, stripe_sim: StripeSimulator
) -> None:
    b = stripe_backend
    with b.station("ST") as st:
        link = st.post("/api/v1/payment-links", json=link_body(5000)).json()
        cs = _checkout(b, link["id"])
        stripe_sim.complete_checkout(cs)
        assert st.post(f"/api/v1/payment-links/{link['id']}/cancel").json()["status"] == "released"
    assert stripe_sim.intents[stripe_sim.sessions[cs]["payment_intent"]]["status"] == "canceled"


def test_adapter_reports_stripe_errors(stripe_sim: StripeSimulator) -> None:
    gw = StripeGateway("sk_test_wrong", stripe_sim.base_url)
    with pytest.raises(GatewayError, match="401"):
        gw.capture("pi_x", 100, "k")
    gw.close()
    gw = StripeGateway("sk_test_123", stripe_sim.base_url)
    with pytest.raises(GatewayError, match="resource_missing"):
        gw.capture("pi_missing", 100, "k2")
    gw.close()


def test_adapter_sends_manual_capture_checkout(stripe_sim: StripeSimulator) -> None:
    gw = StripeGateway("sk_test_123", stripe_sim.base_url)
    co = gw.create_checkout(
        "pl_1",
        amount_minor=5000,
        currency="EUR",
        description="Charging",
        return_url="http://127.0.0.1/x",
        expires_at=NOW,
        now=NOW,
    )
    session = stripe_sim.sessions[co.id]
    assert session["amount_total"] == 5000 and session["currency"] == "eur"
    assert session["expires_at"] == T + 1800  # Stripe's minimum lifetime of 30 minutes
    assert stripe_sim.requests[-1][1] == "checkout:pl_1"
    gw.close()


def test_http_is_real(stripe_sim: StripeSimulator) -> None:
    r = httpx.post(f"{stripe_sim.base_url}/v1/payment_intents/pi_x/cancel")
    assert r.status_code == 401
    assert json.loads(r.text)["error"]["code"] == "api_key_invalid"
