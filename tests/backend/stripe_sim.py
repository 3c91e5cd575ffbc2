"""A small Stripe API simulator on 127.0.0.1 for the Stripe adapter's tests.

It models what the adapter relies on, as Stripe documents it: form-encoded requests with a
bearer secret key, Checkout Sessions whose PaymentIntent uses manual capture, capture of at
most amount_capturable (the rest released), cancel, Idempotency-Key replay (a reused key with
other parameters is an error), and signed webhooks (`Stripe-Signature: t=…,v1=…`) sent to the
service when the customer completes the checkout. Faults can be injected per endpoint.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from backend.gateways.stripe import sign_payload


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"type": "invalid_request_error", "code": code, "message": message}}, status
    )


class StripeSimulator:
    def __init__(self, api_key: str, webhook_secret: str) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.base_url = ""
        self.webhook_url = ""
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, Idempotency-Key)
        self.faults: Counter[str] = Counter()
        self.app = FastAPI()
        self.app.post("/v1/checkout/sessions")(self._create_session)
        self.app.post("/v1/payment_intents")(self._create_intent)
        self.app.post("/v1/payment_intents/{pi}/capture")(self._capture)
        self.app.post("/v1/payment_intents/{pi}/cancel")(self._cancel)

    async def _guard(
        self, request: Request, name: str
    ) -> tuple[dict[str, str], JSONResponse | None, str]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        key = request.headers.get("idempotency-key")
        self.requests.append((request.url.path, key))
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return form, _error(401, "api_key_invalid", "Invalid API Key provided"), ""
        signature = request.url.path + json.dumps(form, sort_keys=True)
        if key and key in self.idempotency:
            sig, status, body = self.idempotency[key]
            if sig != signature:
                return (
                    form,
                    _error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters",
                    ),
                    "",
                )
            return form, JSONResponse(body, status, headers={"Idempotent-Replayed": "true"}), ""
        if self.faults[name] > 0:
            self.faults[name] -= 1
            return form, _error(500, "api_error", "injected failure"), ""
        return form, None, signature

    def _remember(
        self, key: str | None, signature: str, status: int, body: dict[str, Any]
    ) -> JSONResponse:
        if key:
            self.idempotency[key] = (signature, status, body)
        return JSONResponse(body, status)

    async def _create_session(self, request: Request) -> JSONResponse:
        form, early, sig = await self._guard(request, "checkout")
        if early is not None:
            return early
        if form.get("payment_intent_data[capture_method]") != "manual":
            return _error(400, "parameter_invalid", "expected manual capture")
        amount = int(form["line_items[0][price_data][unit_amount]"])
        cs_id = "cs_test_" + secrets.token_hex(8)
        pi_id = "pi_" + secrets.token_hex(8)
        self.intents[pi_id] = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "capture_method": "manual",
            "status": "requires_payment_method",
        }
        session = {
            "id": cs_id,
            "object": "checkout.session",
            "url": f"{self.base_url}/pay/{cs_id}",
            "payment_intent": pi_id,
            "amount_total": amount,
            "currency": form["line_items[0][price_data][currency]"],
            "client_reference_id": form.get("client_reference_id"),
            "metadata": {"link_id": form.get("metadata[link_id]")},
            "expires_at": int(form["expires_at"]),
            "status": "open",
        }
        self.sessions[cs_id] = session
        return self._remember(request.headers.get("idempotency-key"), sig, 200, session)

    async def _create_intent(self, request: Request) -> JSONResponse:
        """A PaymentIntent that Stripe.js confirms in the browser (the wallet buttons)."""
        form, early, sig = await self._guard(request, "intent")
        if early is not None:
            return early
        if form.get("capture_method") != "manual":
            return _error(400, "parameter_invalid", "expected manual capture")
        pi_id = "pi_" + secrets.token_hex(8)
        self.intents[pi_id] = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "amount_capturable": 0,
            "amount_received": 0,
            "capture_method": "manual",
            "client_secret": f"{pi_id}_secret_{secrets.token_hex(8)}",
            "metadata": {
                k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")
            },
            "status": "requires_payment_method",
        }
        body = dict(self.intents[pi_id])
        return self._remember(request.headers.get("idempotency-key"), sig, 200, body)

    def confirm_wallet(self, pi_id: str) -> httpx.Response:
        """Stripe.js confirmed the intent with the wallet's card: the amount is held, and the
        service hears of it by webhook."""
        intent = self.intents[pi_id]
        intent.update(status="requires_capture", amount_capturable=intent["amount"])
        return self._send("payment_intent.amount_capturable_updated", dict(intent))

    def _send(self, kind: str, obj: dict[str, Any]) -> httpx.Response:
        event = {
            "id": "evt_" + secrets.token_hex(8),
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "data": {"object": obj},
        }
        payload = json.dumps(event).encode()
        header = sign_payload(payload, self.webhook_secret, int(time.time()))
        return httpx.post(
            self.webhook_url,
            content=payload,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
            timeout=30,
        )

    async def _capture(self, request: Request, pi: str) -> JSONResponse:
        form, early, sig = await self._guard(request, "capture")
        if early is not None:
            return early
        intent = self.intents.get(pi)
        if intent is None:
            return _error(404, "resource_missing", f"No such payment_intent: '{pi}'")
        if intent["status"] != "requires_capture":
            return _error(400, "payment_intent_unexpected_state", f"status is {intent['status']}")
        amount = int(form.get("amount_to_capture", intent["amount_capturable"]))
        if amount > intent["amount_capturable"]:
            return _error(400, "amount_too_large", "amount_to_capture exceeds amount_capturable")
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        return self._remember(request.headers.get("idempotency-key"), sig, 200, dict(intent))

    async def _cancel(self, request: Request, pi: str) -> JSONResponse:
        form, early, sig = await self._guard(request, "cancel")
        if early is not None:
            return early
        intent = self.intents.get(pi)
        if intent is None:
            return _error(404, "resource_missing", f"No such payment_intent: '{pi}'")
        if intent["status"] not in (
            "requires_payment_method",
            "requires_capture",
            "requires_action",
        ):
            return _error(400, "payment_intent_unexpected_state", f"status is {intent['status']}")
        intent.update(
            status="canceled",
            amount_capturable=0,
            cancellation_reason=form.get("cancellation_reason"),
        )
        return self._remember(request.headers.get("idempotency-key"), sig, 200, dict(intent))

    def complete_checkout(self, cs_id: str) -> httpx.Response:
        """The customer paid on the hosted page: hold placed, webhook sent to the service."""
        session = self.sessions[cs_id]
        intent = self.intents[session["payment_intent"]]
        intent.update(status="requires_capture", amount_capturable=intent["amount"])
        session.update(status="complete", payment_status="unpaid")
        event = {
            "id": "evt_" + secrets.token_hex(8),
            "object": "event",
            "type": "checkout.session.completed",
            "created": int(time.time()),
            "data": {"object": session},
        }
        payload = json.dumps(event).encode()
        header = sign_payload(payload, self.webhook_secret, int(time.time()))
        return httpx.post(
            self.webhook_url,
            content=payload,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
            timeout=30,
        )
