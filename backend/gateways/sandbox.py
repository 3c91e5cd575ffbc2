"""The built-in sandbox gateway: Stripe's test cards, a ledger in the service's own database,
and fault injection so tests and installers can rehearse failures without a bank."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select

from backend.db import Database
from backend.gateways.base import Authorization, CardDetails, GatewayError
from backend.gateways.cards import brand_of, mask, validate
from backend.models import SandboxIntent, SandboxRefund

# Stripe's documented test card numbers and the outcome each one produces.
TEST_CARDS: dict[str, str] = {
    "4242424242424242": "",
    "4000056655665556": "",  # visa debit
    "5555555555554444": "",
    "2223003122003222": "",
    "378282246310005": "",
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000009987": "lost_card",
    "4000000000009979": "stolen_card",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
    "4000000000000119": "processing_error",
}
# Any other valid number is declined: a sandbox must never look like it takes real cards.
UNKNOWN_CARD = "card_not_in_sandbox"


class SandboxGateway:
    name = "sandbox"

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock
        # Fault injection: operation name -> how many upcoming calls fail with GatewayError.
        self.faults: Counter[str] = Counter()

    def _maybe_fail(self, operation: str) -> None:
        if self.faults[operation] > 0:
            self.faults[operation] -= 1
            raise GatewayError(f"sandbox: injected {operation} failure")

    def authorize(
        self, card: CardDetails, amount_minor: int, currency: str, idempotency_key: str
    ) -> Authorization:
        """Place a hold (raises CardFieldError for an unusable form)."""
        number = validate(card, self._clock())
        self._maybe_fail("authorize")
        masked, brand = mask(number), brand_of(number)
        decline = TEST_CARDS.get(number, UNKNOWN_CARD)
        if decline:
            return Authorization(False, None, decline, masked, brand)
        with self._db.session() as s:
            existing = s.scalar(
                select(SandboxIntent).where(SandboxIntent.idempotency_key == idempotency_key)
            )
            if existing is not None:  # a retried request gets the first hold, not a second
                return Authorization(True, existing.id, "", existing.masked_pan, existing.brand)
            intent = SandboxIntent(
                id="pi_sbx_" + secrets.token_hex(12),
                amount_minor=amount_minor,
                currency=currency,
                status="requires_capture",
                amount_received=0,
                masked_pan=masked,
                brand=brand,
                idempotency_key=idempotency_key,
                created_at=self._clock(),
            )
            s.add(intent)
        return Authorization(True, intent.id, "", masked, brand)

    def capture(self, reference: str, amount_minor: int, idempotency_key: str) -> int:
        self._maybe_fail("capture")
        with self._db.session() as s:
            intent = s.get(SandboxIntent, reference, with_for_update=True)
            if intent is None:
                raise GatewayError(f"sandbox: no such hold {reference}")
            if intent.status == "succeeded":  # a retried capture answers as the first did
                return intent.amount_received
            if intent.status != "requires_capture":
                raise GatewayError(f"sandbox: hold {reference} is {intent.status}")
            if not 0 <= amount_minor <= intent.amount_minor:
                raise GatewayError(
                    f"sandbox: amount_to_capture {amount_minor} exceeds the hold "
                    f"{intent.amount_minor}"
                )
            intent.status = "succeeded"
            intent.amount_received = amount_minor
            return amount_minor

    def release(self, reference: str, idempotency_key: str) -> None:
        self._maybe_fail("release")
        with self._db.session() as s:
            intent = s.get(SandboxIntent, reference, with_for_update=True)
            if intent is None:
                raise GatewayError(f"sandbox: no such hold {reference}")
            if intent.status == "succeeded":
                raise GatewayError(f"sandbox: hold {reference} was already captured")
            intent.status = "canceled"

    def refund(self, reference: str, amount_minor: int, idempotency_key: str) -> str:
        self._maybe_fail("refund")
        with self._db.session() as s:
            done = s.scalar(
                select(SandboxRefund).where(SandboxRefund.idempotency_key == idempotency_key)
            )
            if done is not None:  # a retried refund answers as the first did
                return done.id
            intent = s.get(SandboxIntent, reference, with_for_update=True)
            if intent is None:
                raise GatewayError(f"sandbox: no such payment {reference}")
            if intent.status != "succeeded":
                raise GatewayError(f"sandbox: payment {reference} is {intent.status}, not captured")
            refunded = s.scalar(
                select(func.coalesce(func.sum(SandboxRefund.amount_minor), 0)).where(
                    SandboxRefund.intent_id == reference
                )
            )
            if not 0 < amount_minor <= intent.amount_received - (refunded or 0):
                raise GatewayError(
                    f"sandbox: refund of {amount_minor} exceeds what is left of the capture "
                    f"({intent.amount_received - (refunded or 0)})"
                )
            row = SandboxRefund(
                id="re_sbx_" + secrets.token_hex(12),
                intent_id=reference,
                amount_minor=amount_minor,
                idempotency_key=idempotency_key,
                created_at=self._clock(),
            )
            s.add(row)
            return row.id
