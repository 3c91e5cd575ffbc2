"""A small Stripe API simulator on 127.0.0.1 for the Stripe adapter's tests.

It models what the adapter relies on, as Stripe documents it: form-encoded requests with a
bearer secret key, Checkout Sessions whose PaymentIntent uses manual capture, capture of at
most amount_capturable (the rest released), cancel, Idempotency-Key replay (a reused key with
other parameters is an error), and signed webhooks (`Stripe-Signature: t=…,v1=…`) sent to the
service when the customer completes the checkout. Faults can be injected per endpoint.

For the books it keeps Stripe's ledger: refunds, balance transactions (charge, refund,
adjustment for disputes, payout; fees per the agreed price unless a test plants another), and
payouts that sweep the available balance; both lists page with limit/starting_after and
expand[]=data.source as Stripe's do.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import QueryParams

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
        self.refunds: dict[str, dict[str, Any]] = {}
        self.balance: list[dict[str, Any]] = []  # balance transactions, oldest first
        self.payouts: list[dict[str, Any]] = []
        # The agreed price: 1.5 % + 25 cents per charge (tests may plant a different fee).
        self.fee_percent, self.fee_fixed = Decimal("1.5"), 25
        self.next_fee: int | None = None
        self.app = FastAPI()
        self.app.post("/v1/checkout/sessions")(self._create_session)
        self.app.post("/v1/payment_intents")(self._create_intent)
        self.app.post("/v1/payment_intents/{pi}/capture")(self._capture)
        self.app.post("/v1/payment_intents/{pi}/cancel")(self._cancel)
        self.app.post("/v1/refunds")(self._refund)
        self.app.get("/v1/balance_transactions")(self._list_balance)
        self.app.get("/v1/payouts")(self._list_payouts)

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
        if amount > 0:
            self.book_charge(pi, amount)
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

    # ------------------------------------------------------------------ the ledger

    def _txn(self, kind: str, amount: int, fee: int, source: dict[str, Any]) -> dict[str, Any]:
        txn = {
            "id": "txn_" + secrets.token_hex(8),
            "object": "balance_transaction",
            "type": kind,
            "amount": amount,
            "fee": fee,
            "net": amount - fee,
            "currency": "eur",
            "created": int(time.time()),
            "source": source,
            "payout": None,
            "reporting_category": {"adjustment": "dispute"}.get(kind, kind),
        }
        self.balance.append(txn)
        return txn

    def agreed_fee(self, amount: int) -> int:
        fee = Decimal(amount) * self.fee_percent / 100 + self.fee_fixed
        return int(fee.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def book_charge(self, pi: str, amount: int) -> dict[str, Any]:
        """A charge lands in the balance (also used to plant one the service never captured)."""
        charge = {"id": "ch_" + secrets.token_hex(8), "object": "charge", "payment_intent": pi}
        fee = self.next_fee if self.next_fee is not None else self.agreed_fee(amount)
        self.next_fee = None
        return self._txn("charge", amount, fee, charge)

    def dispute(self, pi: str, amount: int, fee: int = 1500) -> dict[str, Any]:
        """The cardholder's bank takes money back (Stripe books a dispute as an adjustment)."""
        source = {"id": "dp_" + secrets.token_hex(8), "object": "dispute", "payment_intent": pi}
        return self._txn("adjustment", -amount, fee, source)

    def refund_outside(self, pi: str, amount: int) -> dict[str, Any]:
        """A refund made in Stripe's dashboard, not through the service."""
        refund = {"id": "re_" + secrets.token_hex(8), "object": "refund", "payment_intent": pi}
        self.refunds[refund["id"]] = {**refund, "amount": amount, "status": "succeeded"}
        return self._txn("refund", -amount, 0, refund)

    def pay_out(self, amount: int | None = None) -> dict[str, Any]:
        """Send the balance to the bank: every transaction not yet paid out joins the payout.
        `amount` plants a payout that differs from its transactions."""
        open_txns = [t for t in self.balance if t["payout"] is None and t["type"] != "payout"]
        total = sum(t["net"] for t in open_txns)
        payout = {
            "id": "po_" + secrets.token_hex(8),
            "object": "payout",
            "amount": total if amount is None else amount,
            "currency": "eur",
            "arrival_date": int(time.time()),
            "created": int(time.time()),
            "status": "paid",
        }
        for t in open_txns:
            t["payout"] = payout["id"]
        self.payouts.append(payout)
        self._txn("payout", -payout["amount"], 0, {"id": payout["id"], "object": "payout"})
        self.balance[-1]["payout"] = payout["id"]
        return payout

    async def _refund(self, request: Request) -> JSONResponse:
        form, early, sig = await self._guard(request, "refund")
        if early is not None:
            return early
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None:
            return _error(404, "resource_missing", "No such payment_intent")
        if intent["status"] != "succeeded":
            return _error(400, "charge_not_captured", "the payment was not captured")
        done = sum(
            r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"]
        )
        amount = int(form.get("amount", intent["amount_received"] - done))
        if not 0 < amount <= intent["amount_received"] - done:
            return _error(400, "amount_too_large", "refund exceeds the charge")
        refund = {
            "id": "re_" + secrets.token_hex(8),
            "object": "refund",
            "amount": amount,
            "payment_intent": intent["id"],
            "reason": form.get("reason"),
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        self._txn("refund", -amount, 0, {k: refund[k] for k in ("id", "object", "payment_intent")})
        return self._remember(request.headers.get("idempotency-key"), sig, 200, refund)

    def _authorized(self, request: Request) -> JSONResponse | None:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "api_key_invalid", "Invalid API Key provided")
        return None

    @staticmethod
    def _page(items: list[dict[str, Any]], q: QueryParams, expand: bool) -> dict[str, Any]:
        items = items[::-1]  # Stripe lists newest first; starting_after pages to older ones
        after = q.get("starting_after")
        start = next((n + 1 for n, x in enumerate(items) if x["id"] == after), 0) if after else 0
        limit = min(int(q.get("limit", "10")), 100)
        page = items[start : start + limit]
        if not expand:
            page = [{**x, "source": x["source"]["id"]} if "source" in x else x for x in page]
        return {"object": "list", "data": page, "has_more": start + limit < len(items)}

    async def _list_balance(self, request: Request) -> JSONResponse:
        denied = self._authorized(request)
        if denied is not None:
            return denied
        q = request.query_params
        items = self.balance
        if q.get("payout"):
            items = [t for t in items if t["payout"] == q["payout"]]
        if q.get("created[gte]"):
            items = [t for t in items if t["created"] >= int(q["created[gte]"])]
        expand = "data.source" in q.getlist("expand[]")
        return JSONResponse(self._page(items, q, expand))

    async def _list_payouts(self, request: Request) -> JSONResponse:
        denied = self._authorized(request)
        if denied is not None:
            return denied
        q = request.query_params
        items = self.payouts
        if q.get("created[gte]"):
            items = [p for p in items if p["created"] >= int(q["created[gte]"])]
        return JSONResponse(self._page(items, q, False))
