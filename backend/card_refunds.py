"""Card-present refunds a kiosk made at its terminal (ZVT Refund 06 31, from the service menu).

The money has already gone back to the card when the report arrives, so the refund is stored
as it happened (status "succeeded", provider "terminal"), tied to the session's captured card
payment; from there it counts in the books like every other refund. A repeated report (same
terminal and receipt number) finds the refund it stored the first time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.config import Settings
from backend.db import Database
from backend.ingest import IngestError
from backend.models import ChargingSession, Payment, Refund
from backend.operators import audit
from backend.schemas import CardRefundReport

REASON = "card-present refund at the kiosk"


def store_card_refund(
    db: Database, settings: Settings, station_id: str, report: CardRefundReport
) -> dict[str, Any]:
    key = f"terminal:{station_id}:{report.terminal_id}:{report.receipt_no}"[:64]
    with db.session() as s:
        existing = s.scalar(select(Refund).where(Refund.request_key == key))
        if existing is not None:
            return {"status": existing.status, "refund_id": existing.id}
        session = s.scalar(
            select(ChargingSession).where(
                ChargingSession.station_id == station_id,
                ChargingSession.session_id == report.session_id,
            )
        )
        if session is None:
            raise IngestError(404, "session_id", "no such session for this station")
        payment = s.scalar(
            select(Payment)
            .where(Payment.session_pk == session.pk, Payment.method == "card")
            .order_by(Payment.id)
            .limit(1)
        )
        if payment is None:
            raise IngestError(422, "session_id", "the session was not paid by card")
        if report.currency != payment.currency:
            raise IngestError(422, "currency", f"the payment was in {payment.currency}")
        row = Refund(
            request_key=key,
            station_id=station_id,
            session_pk=session.pk,
            payment_id=payment.id,
            method="card",
            provider="terminal",
            amount_minor=report.amount,
            currency=report.currency,
            reason=REASON,
            status="succeeded",
            gateway_ref=f"{report.terminal_id}/{report.receipt_no}",
            failure="",
            actor=f"station:{station_id}"[:64],
            created_at=report.occurred_at,
        )
        s.add(row)
        s.flush()
        refund_id = row.id
    audit(
        db,
        settings.now(),
        f"station:{station_id}"[:64],
        "card_refund",
        f"refund:{refund_id}",
        amount=report.amount,
        receipt_no=report.receipt_no,
        reason=REASON,
    )
    return {"status": "succeeded", "refund_id": refund_id}
