"""Capture or release QR-link holds, and the background sweep that finishes what is open.

Gateway calls happen outside database transactions (a slow gateway must not hold a lock);
each uses an idempotency key derived from the link id, so a retry after a crash or a timeout
captures once. The database then records the result with a conditional update.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update

from backend import links
from backend.config import Settings
from backend.db import Database
from backend.gateways import Gateway, GatewayError
from backend.models import ChargingSession, Payment, PaymentLink
from backend.notify import LinkChanges

log = logging.getLogger(__name__)

# Payment states (payments.status) of a QR-link hold.
AUTHORIZED, RELEASING = "authorized", "releasing"


class Settler:
    def __init__(
        self, db: Database, settings: Settings, gateway: Gateway, changes: LinkChanges
    ) -> None:
        self.db = db
        self.settings = settings
        self.gateway = gateway
        self.changes = changes

    def settle_session(self, session_pk: int) -> dict[str, Any]:
        """Capture the computed cost (capped at the hold) of a QR-paid session."""
        with self.db.session() as s:
            session = s.get(ChargingSession, session_pk)
            assert session is not None and session.link_id is not None
            link = s.get(PaymentLink, session.link_id)
            assert link is not None
            payment = links.link_payment(s, link.id)
            if payment is None or payment.session_pk is None:
                # Never paid, or the hold was being released when the report came.
                return {"payment_status": "not_authorized", "link_status": link.status}
            if payment.session_pk != session_pk:
                # The hold already belongs to another session: never capture it twice.
                return {"payment_status": "duplicate", "link_status": link.status}
            if payment.status != "authorized":
                return self._answer(payment, link.status)
            amount = min(session.computed_minor, payment.authorized_minor)
            ref, pay_id, link_id = payment.gateway_ref, payment.id, link.id
        assert ref is not None
        try:
            if amount == 0:
                self.gateway.release(ref, f"release:{link_id}")
                captured = 0
            else:
                captured = self.gateway.capture(ref, amount, f"capture:{link_id}")
        except GatewayError as exc:
            log.warning(
                "link %s: capture of %d failed, retried by the sweep: %s", link_id, amount, exc
            )
            with self.db.session() as s:
                s.execute(
                    update(Payment).where(Payment.id == pay_id).values(failure=str(exc)[:200])
                )
                return {"payment_status": "capture_pending", "link_status": links.AUTHORIZED}
        return self._record(pay_id, link_id, captured)

    def _record(self, pay_id: int, link_id: str, captured: int) -> dict[str, Any]:
        now = self.settings.now()
        status = "captured" if captured > 0 else "released"
        with self.db.session() as s:
            s.execute(
                update(Payment)
                .where(Payment.id == pay_id, Payment.status.in_((AUTHORIZED, RELEASING)))
                .values(
                    status=status,
                    captured_minor=captured,
                    released=True,
                    captured_at=now,
                    failure="",
                )
            )
            links.transition(
                s, link_id, links.AUTHORIZED, links.CAPTURED if captured else links.RELEASED, now
            )
            payment = s.get(Payment, pay_id)
            link = s.get(PaymentLink, link_id)
            assert payment is not None and link is not None
            s.refresh(payment)
            s.refresh(link)
            answer = self._answer(payment, link.status)
        self.changes.changed()
        return answer

    @staticmethod
    def _answer(payment: Payment, link_status: str) -> dict[str, Any]:
        captured = payment.captured_minor or 0
        return {
            "payment_status": payment.status,
            "hold": payment.authorized_minor,
            "captured": captured if payment.status in ("captured", "released") else None,
            "released": (payment.authorized_minor - captured) if payment.released else None,
            "link_status": link_status,
        }

    def release_link(self, link_id: str, reason: str) -> bool:
        """Give an authorised hold back (cancelled by the station, or never reported).

        The hold is claimed ("releasing") before the gateway call, so a session report
        arriving meanwhile cannot attach to it (see ingest); a failed release un-claims it.
        """
        with self.db.session() as s:
            payment = links.link_payment(s, link_id)
            if payment is None:
                return False
            claimed = s.execute(
                update(Payment)
                .where(
                    Payment.id == payment.id,
                    Payment.status.in_((AUTHORIZED, RELEASING)),
                    Payment.session_pk.is_(None),
                )
                .values(status=RELEASING)
                .execution_options(synchronize_session=False)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return False
            ref, pay_id = payment.gateway_ref, payment.id
        assert ref is not None
        try:
            self.gateway.release(ref, f"release:{link_id}")
        except GatewayError as exc:
            log.warning(
                "link %s: release (%s) failed, retried by the sweep: %s", link_id, reason, exc
            )
            with self.db.session() as s:
                s.execute(
                    update(Payment)
                    .where(Payment.id == pay_id, Payment.status == RELEASING)
                    .values(status=AUTHORIZED, failure=str(exc)[:200])
                )
            return False
        self._record(pay_id, link_id, 0)
        return True

    def sweep(self) -> dict[str, int]:
        """Expire unpaid links, retry failed captures, release holds never reported."""
        now = self.settings.now()
        with self.db.session() as s:
            expired = s.execute(
                update(PaymentLink)
                .where(PaymentLink.status == links.PENDING, PaymentLink.expires_at <= now)
                .values(status=links.EXPIRED, version=PaymentLink.version + 1)
                .execution_options(synchronize_session=False)
            )
            n_expired = int(getattr(expired, "rowcount", 0) or 0)
            open_holds = s.execute(
                select(Payment.session_pk, Payment.link_id, PaymentLink.authorized_at)
                .join(PaymentLink, PaymentLink.id == Payment.link_id)
                .where(Payment.method == "link", Payment.status.in_((AUTHORIZED, RELEASING)))
            ).all()
        if n_expired:
            self.changes.changed()
        settled = released = 0
        for session_pk, link_id, authorized_at in open_holds:
            if session_pk is not None:
                answer = self.settle_session(session_pk)
                settled += answer["payment_status"] in ("captured", "released")
            elif (
                link_id is not None
                and authorized_at is not None
                and now - authorized_at >= self.settings.hold_ttl
            ):
                released += self.release_link(link_id, "never reported")
        return {"expired": n_expired, "settled": settled, "released": released}
