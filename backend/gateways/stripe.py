"""Stripe adapter: Checkout Session with a manual-capture PaymentIntent, capture, cancel,
idempotency keys derived from our own ids, and webhook signature verification."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from backend.gateways.base import GatewayError

# Stripe refuses a Checkout Session that expires sooner than this.
CHECKOUT_MIN_LIFETIME = timedelta(minutes=30)


class WebhookSignatureError(ValueError):
    """A webhook whose signature or timestamp does not check out; answered with 400."""


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe would send for this body (used to test, and by
    the simulator)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_webhook(
    payload: bytes, header: str | None, secret: str, now: datetime, tolerance_s: int = 300
) -> dict[str, Any]:
    """The event of a correctly signed, fresh webhook body, else WebhookSignatureError.

    Per Stripe: HMAC-SHA256 over "{t}.{raw body}" with the endpoint secret, compared in constant
    time with every v1 entry (several during secret rotation); older than the tolerance is a
    replay, and newer than it is refused too: a timestamp in the future would keep a captured
    request replayable until then. The raw bytes are verified, never a re-serialised JSON.
    """
    if not secret:
        raise WebhookSignatureError("no webhook secret configured")
    if not header:
        raise WebhookSignatureError("missing Stripe-Signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and re.fullmatch(r"[0-9]{1,12}", value):  # ASCII seconds, no 5,000 digits
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None:
        raise WebhookSignatureError("Stripe-Signature has no timestamp t=")
    if not signatures:
        raise WebhookSignatureError("Stripe-Signature has no v1 signature")
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    if not any(hmac.compare_digest(expected, sig) for sig in signatures):
        raise WebhookSignatureError("signature does not match the body")
    age = now.timestamp() - timestamp
    if age > tolerance_s:
        raise WebhookSignatureError(f"timestamp is {int(age)} s old (tolerance {tolerance_s} s)")
    if -age > tolerance_s:
        raise WebhookSignatureError(
            f"timestamp is {int(-age)} s in the future (tolerance {tolerance_s} s)"
        )
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise WebhookSignatureError(f"body is not JSON: {exc}") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise WebhookSignatureError("body is not a Stripe event (no id)")
    return event


@dataclass(frozen=True)
class Checkout:
    id: str
    url: str


class StripeGateway:
    name = "stripe"

    def __init__(self, api_key: str, api_base: str = "https://api.stripe.com") -> None:
        self._client = httpx.Client(
            base_url=api_base,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(20.0),
        )

    def _post(self, path: str, data: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        try:
            response = self._client.post(
                path, data=data, headers={"Idempotency-Key": idempotency_key}
            )
        except httpx.HTTPError as exc:
            raise GatewayError(f"stripe: {path}: {exc}") from exc
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            raise GatewayError(f"stripe: {path}: HTTP {response.status_code}, not JSON") from exc
        if response.status_code >= 400:
            err = body.get("error", {}) if isinstance(body, dict) else {}
            raise GatewayError(
                f"stripe: {path}: HTTP {response.status_code} "
                f"{err.get('code', '')} {err.get('message', '')}".rstrip()
            )
        return body

    def create_checkout(
        self,
        link_id: str,
        *,
        amount_minor: int,
        currency: str,
        description: str,
        return_url: str,
        expires_at: datetime,
        now: datetime,
    ) -> Checkout:
        """A Checkout Session whose PaymentIntent only holds the amount (manual capture)."""
        expires = max(expires_at, now + CHECKOUT_MIN_LIFETIME)
        body = self._post(
            "/v1/checkout/sessions",
            {
                "mode": "payment",
                "client_reference_id": link_id,
                "line_items[0][quantity]": "1",
                "line_items[0][price_data][currency]": currency.lower(),
                "line_items[0][price_data][unit_amount]": str(amount_minor),
                "line_items[0][price_data][product_data][name]": description,
                "payment_intent_data[capture_method]": "manual",
                "payment_intent_data[metadata][link_id]": link_id,
                "metadata[link_id]": link_id,
                "success_url": return_url,
                "cancel_url": return_url,
                "expires_at": str(int(expires.timestamp())),
            },
            idempotency_key=f"checkout:{link_id}",
        )
        return Checkout(id=str(body["id"]), url=str(body["url"]))

    def create_wallet_intent(
        self, link_id: str, *, amount_minor: int, currency: str, description: str
    ) -> tuple[str, str]:
        """A PaymentIntent that only holds the amount (manual capture), for a wallet (Apple Pay,
        Google Pay) that the pay page confirms with Stripe.js: (its id, its client secret).
        One per link (the idempotency key), so a second tap gets the same one."""
        body = self._post(
            "/v1/payment_intents",
            {
                "amount": str(amount_minor),
                "currency": currency.lower(),
                "capture_method": "manual",
                "payment_method_types[0]": "card",
                "description": description,
                "metadata[link_id]": link_id,
                "metadata[wallet]": "1",
            },
            idempotency_key=f"wallet:{link_id}",
        )
        return str(body["id"]), str(body["client_secret"])

    def capture(self, reference: str, amount_minor: int, idempotency_key: str) -> int:
        body = self._post(
            f"/v1/payment_intents/{reference}/capture",
            {"amount_to_capture": str(amount_minor)},
            idempotency_key=idempotency_key,
        )
        return int(body.get("amount_received", amount_minor))

    def release(self, reference: str, idempotency_key: str) -> None:
        self._post(
            f"/v1/payment_intents/{reference}/cancel",
            {"cancellation_reason": "abandoned"},
            idempotency_key=idempotency_key,
        )

    def refund(self, reference: str, amount_minor: int, idempotency_key: str) -> str:
        body = self._post(
            "/v1/refunds",
            {
                "payment_intent": reference,
                "amount": str(amount_minor),
                "reason": "requested_by_customer",
            },
            idempotency_key=idempotency_key,
        )
        if body.get("status") == "failed":
            raise GatewayError(f"stripe: refund {body.get('id')} failed")
        return str(body["id"])

    def get(self, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        """One page of a list endpoint (balance transactions, payouts)."""
        try:
            response = self._client.get(path, params=tuple(params))
            body: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise GatewayError(f"stripe: {path}: {exc}") from exc
        if response.status_code >= 400:
            err = body.get("error", {}) if isinstance(body, dict) else {}
            raise GatewayError(
                f"stripe: {path}: HTTP {response.status_code} {err.get('message', '')}".rstrip()
            )
        return body

    def close(self) -> None:
        self._client.close()
