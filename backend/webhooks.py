"""Stripe webhooks: verified on the raw body, deduplicated on the event id, idempotent.

checkout.session.completed places the hold on our link (authorized); a completion that arrives
for a link no longer payable releases the new hold at once. payment_intent.canceled and
charge.expired record that a hold is gone.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from backend import links
from backend.gateways import GatewayError
from backend.gateways.stripe import WebhookSignatureError, verify_webhook
from backend.models import Payment, PaymentLink, WebhookEvent
from backend.schemas import ErrorBody
from backend.services import Services, services

log = logging.getLogger(__name__)
router = APIRouter(tags=["gateway"])


def _completed(svc: Services, obj: dict[str, Any]) -> str:
    link_id = (obj.get("metadata") or {}).get("link_id") or obj.get("client_reference_id")
    intent = obj.get("payment_intent")
    if not isinstance(link_id, str) or not isinstance(intent, str):
        return "ignored: no link id or payment intent"
    return _authorize(svc, link_id, intent, obj.get("amount_total"))


def _wallet_hold(svc: Services, obj: dict[str, Any]) -> str:
    """A wallet payment (Apple Pay, Google Pay) confirmed on the pay page: its PaymentIntent
    now holds the amount. Intents of the hosted checkout are left to its own event."""
    metadata = obj.get("metadata") or {}
    link_id, intent = metadata.get("link_id"), obj.get("id")
    if metadata.get("wallet") != "1" or not isinstance(link_id, str):
        return "ignored: not a wallet payment"
    if not isinstance(intent, str):
        return "ignored: no payment intent"
    with svc.db.session() as s:
        if s.scalar(select(Payment.id).where(Payment.gateway_ref == intent)) is not None:
            return "ignored: hold already recorded"
    return _authorize(svc, link_id, intent, obj.get("amount_capturable"))


def _authorize(svc: Services, link_id: str, intent: str, amount: object) -> str:
    with svc.db.session() as s:
        link = s.get(PaymentLink, link_id)
        if link is None:
            return "ignored: unknown link"
        if amount is not None and amount != link.amount_minor:
            won = False
        else:
            won = links.authorize_link(
                s, link, intent, masked_pan=None, brand=None, now=svc.settings.now()
            )
    if not won:
        try:
            svc.gateway.release(intent, f"release-late:{link_id}")
        except GatewayError as exc:
            log.warning("link %s: late hold %s not released: %s", link_id, intent, exc)
        return "released: link not payable"
    svc.changes.changed()
    return "authorized"


def _hold_gone(svc: Services, obj: dict[str, Any]) -> str:
    intent = obj.get("payment_intent") if obj.get("object") == "charge" else obj.get("id")
    if not isinstance(intent, str):
        return "ignored"
    with svc.db.session() as s:
        payment = s.scalar(select(Payment).where(Payment.gateway_ref == intent))
        if payment is None or payment.status != "authorized":
            return "ignored"
        s.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status == "authorized")
            .values(status="released", released=True, captured_minor=0)
        )
        if payment.link_id:
            links.transition(
                s, payment.link_id, links.AUTHORIZED, links.RELEASED, svc.settings.now()
            )
    svc.changes.changed()
    return "released"


HANDLERS = {
    "checkout.session.completed": _completed,
    "payment_intent.amount_capturable_updated": _wallet_hold,
    "payment_intent.canceled": _hold_gone,
    "charge.expired": _hold_gone,
}


def _handle(svc: Services, event: dict[str, Any]) -> dict[str, str]:
    with svc.db.session() as s:
        if s.get(WebhookEvent, event["id"]) is not None:
            return {"result": "duplicate event ignored"}
    handler = HANDLERS.get(str(event.get("type")))
    obj = (event.get("data") or {}).get("object")
    result = handler(svc, obj) if handler is not None and isinstance(obj, dict) else "ignored"
    # Recorded after handling: a delivery that failed half-way is handled again on retry
    # (the handlers are conditional updates, so a twin delivery changes nothing).
    try:
        with svc.db.session() as s:
            s.add(
                WebhookEvent(
                    id=event["id"][:255],
                    type=str(event.get("type", ""))[:100],
                    received_at=svc.settings.now(),
                )
            )
    except IntegrityError:
        pass
    return {"result": result}


@router.post(
    "/webhooks/stripe",
    summary="Stripe event endpoint (signature required)",
    responses={
        400: {"model": ErrorBody, "description": "signature or timestamp invalid"},
        413: {"model": ErrorBody, "description": "request body too large"},
    },
)
async def stripe_webhook(request: Request) -> dict[str, str]:
    svc = services(request)
    payload = await request.body()
    try:
        event = verify_webhook(
            payload,
            request.headers.get("stripe-signature"),
            svc.settings.stripe_webhook_secret,
            svc.settings.now(),
            svc.settings.webhook_tolerance_s,
        )
    except WebhookSignatureError as exc:
        raise HTTPException(400, detail=f"webhook rejected: {exc}") from None
    return await run_in_threadpool(_handle, svc, event)
