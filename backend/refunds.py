"""Refunds of a session, full or partial, with a reason: QR payments through the gateway,
card payments as an instruction recorded for the acquirer. Every refund is audited.

The refund row is written first (status pending, its amount reserved against the capture)
and the gateway is called outside the transaction with an idempotency key derived from the
request, so a repeated form post or a retry after a timeout refunds once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.gateways import GatewayError
from backend.models import ChargingSession, Payment, Refund
from backend.operators import audit
from backend.services import Services
from kiosk.money import Money

COUNTED = ("pending", "succeeded", "instructed")
REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
MAX_REASON = 500


class RefundError(ValueError):
    """A refund that cannot be made; `field` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_amount(text: str, currency: str) -> int:
    """An amount the operator typed ("6.25" or "6,25") as minor units, exactly."""
    try:
        money = Money.of(text.strip().replace(",", "."), currency, "amount")
    except (ValueError, TypeError) as exc:
        raise RefundError("amount", str(exc).removeprefix("amount: ")) from None
    if not money.is_rounded():
        raise RefundError("amount", f"more decimals than {currency} has")
    if money.amount > Decimal(10) ** 9:
        raise RefundError("amount", "too large")
    return money.to_minor()


@dataclass(frozen=True)
class RefundResult:
    refund_id: int
    status: str
    amount_minor: int
    failure: str


def _captured_payment(s: Session, session_pk: int, lock: bool = False) -> Payment | None:
    stmt = (
        select(Payment)
        .where(Payment.session_pk == session_pk, Payment.captured_minor > 0)
        .order_by(Payment.id)
        .limit(1)
    )
    if lock:  # two refunds of one payment at once: the second waits and sees the first
        stmt = stmt.with_for_update()
    return s.scalar(stmt)


def _refunded(s: Session, payment_id: int) -> int:
    total = s.scalar(
        select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
            Refund.payment_id == payment_id, Refund.status.in_(COUNTED)
        )
    )
    return int(total or 0)


def refundable(svc: Services, session_pk: int) -> tuple[Payment | None, int]:
    """The session's captured payment and how much of it can still be refunded."""
    with svc.db.read() as s:
        payment = _captured_payment(s, session_pk)
        if payment is None:
            return None, 0
        return payment, (payment.captured_minor or 0) - _refunded(s, payment.id)


def _reserve(
    svc: Services, session_pk: int, amount_minor: int, *, reason: str, actor: str, key: str
) -> tuple[Refund, Payment | None, bool]:
    """The refund row for this request (new, or the one an earlier post made)."""
    with svc.db.session() as s:
        existing = s.scalar(select(Refund).where(Refund.request_key == key))
        if existing is not None:
            return existing, s.get(Payment, existing.payment_id), False
        session = s.get(ChargingSession, session_pk)
        if session is None:
            raise RefundError("session", f"no session {session_pk}")
        payment = _captured_payment(s, session_pk, lock=True)
        if payment is None:
            raise RefundError("session", "nothing was captured for this session")
        left = (payment.captured_minor or 0) - _refunded(s, payment.id)
        if amount_minor > left:
            raise RefundError("amount", f"at most {left} minor units are left to refund")
        card = payment.method == "card"
        row = Refund(
            request_key=key,
            station_id=session.station_id,
            session_pk=session_pk,
            payment_id=payment.id,
            method=payment.method,
            provider="acquirer" if card else (payment.gateway or svc.gateway.name),
            amount_minor=amount_minor,
            currency=payment.currency,
            reason=reason,
            status="instructed" if card else "pending",
            gateway_ref=None,
            failure="",
            actor=actor,
            created_at=svc.settings.now(),
        )
        s.add(row)
        s.flush()
        return row, payment, True


def refund_session(
    svc: Services,
    session_pk: int,
    amount_minor: int,
    *,
    reason: str,
    actor: str,
    request_key: str,
) -> RefundResult:
    """Refund part or all of a session's capture. Raises RefundError for unusable input."""
    reason = reason.strip()
    if not reason:
        raise RefundError("reason", "say why the money is given back")
    if len(reason) > MAX_REASON:
        raise RefundError("reason", f"at most {MAX_REASON} characters")
    if amount_minor <= 0:
        raise RefundError("amount", "must be more than zero")
    if not REQUEST_KEY.fullmatch(request_key):
        raise RefundError("request_key", "16 to 64 letters, digits, - or _")
    row, payment, new = _reserve(
        svc, session_pk, amount_minor, reason=reason, actor=actor, key=request_key
    )
    if new:
        audit(
            svc.db,
            svc.settings.now(),
            actor,
            "refund_requested",
            f"session:{session_pk}",
            refund_id=row.id,
            amount_minor=amount_minor,
            currency=row.currency,
            reason=reason,
            method=row.method,
        )
    if row.status != "pending" or payment is None:
        return RefundResult(row.id, row.status, row.amount_minor, row.failure)
    assert payment.gateway_ref is not None
    try:
        ref = svc.gateway.refund(payment.gateway_ref, row.amount_minor, f"refund:{request_key}")
    except GatewayError as exc:
        # Left pending (its amount stays reserved): posting the same form again retries with
        # the same idempotency key.
        with svc.db.session() as s:
            s.execute(update(Refund).where(Refund.id == row.id).values(failure=str(exc)[:200]))
        return RefundResult(row.id, "pending", row.amount_minor, str(exc)[:200])
    with svc.db.session() as s:
        s.execute(
            update(Refund)
            .where(Refund.id == row.id)
            .values(status="succeeded", gateway_ref=ref, failure="")
        )
    audit(
        svc.db,
        svc.settings.now(),
        actor,
        "refund_succeeded",
        f"session:{session_pk}",
        refund_id=row.id,
        gateway_ref=ref,
    )
    return RefundResult(row.id, "succeeded", row.amount_minor, "")
