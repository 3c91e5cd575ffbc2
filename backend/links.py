"""Payment links: created by a station, paid once on the phone, captured or released once.

States (kiosk.devices.LinkStatus): pending → authorized → captured | released, or
pending → expired | cancelled. Every change is a conditional UPDATE on the current state, so
two racing requests (a double-tap on Pay, a webhook and the sweep) cannot both win.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.models import Payment, PaymentLink

PENDING, AUTHORIZED, EXPIRED, CANCELLED, CAPTURED, RELEASED = (
    "pending",
    "authorized",
    "expired",
    "cancelled",
    "captured",
    "released",
)


class LinkError(Exception):
    """A link operation that the link's state does not allow; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def new_link_id() -> str:
    # 160 bits from the OS generator: not guessable, not enumerable.
    return "pl_" + secrets.token_urlsafe(20)


def link_url(settings: Settings, link_id: str) -> str:
    return f"{settings.public_url.rstrip('/')}/pay/{link_id}"


def link_json(settings: Settings, link: PaymentLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "url": link_url(settings, link.id),
        "status": link.status,
        "expires_at": link.expires_at.isoformat().replace("+00:00", "Z"),
        "amount": link.amount_minor,
        "currency": link.currency,
        "connector_id": link.connector_id,
        "created_at": link.created_at.isoformat().replace("+00:00", "Z"),
        "authorized_at": (
            link.authorized_at.isoformat().replace("+00:00", "Z") if link.authorized_at else None
        ),
        "declines": link.declines,
        "last_decline": link.last_decline or None,
    }


@dataclass(frozen=True)
class NewLink:
    station_id: str
    connector_id: str
    amount_minor: int
    currency: str
    tariff: dict[str, Any]
    time_zone: str


def create_link(s: Session, settings: Settings, new: NewLink, now: datetime) -> PaymentLink:
    link = PaymentLink(
        id=new_link_id(),
        station_id=new.station_id,
        connector_id=new.connector_id,
        amount_minor=new.amount_minor,
        currency=new.currency,
        tariff=new.tariff,
        time_zone=new.time_zone,
        status=PENDING,
        created_at=now,
        expires_at=now + settings.link_ttl,
        authorized_at=None,
        version=0,
        declines=0,
        last_decline="",
        gateway=settings.gateway,
        gateway_checkout=None,
    )
    s.add(link)
    s.flush()
    return link


def transition(s: Session, link_id: str, from_status: str, to_status: str, now: datetime) -> bool:
    """Move the link if (and only if) it is still in from_status. True when this call won."""
    values: dict[str, Any] = {"status": to_status, "version": PaymentLink.version + 1}
    if to_status == AUTHORIZED:
        values["authorized_at"] = now
    result = s.execute(
        update(PaymentLink)
        .where(PaymentLink.id == link_id, PaymentLink.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def expire_if_due(s: Session, link: PaymentLink, now: datetime) -> bool:
    """A pending link past its expiry becomes expired (on read, and by the sweep)."""
    if (
        link.status == PENDING
        and now >= link.expires_at
        and transition(s, link.id, PENDING, EXPIRED, now)
    ):
        s.refresh(link)
        return True
    return False


def record_decline(s: Session, link_id: str, code: str) -> None:
    s.execute(
        update(PaymentLink)
        .where(PaymentLink.id == link_id, PaymentLink.status == PENDING)
        .values(
            declines=PaymentLink.declines + 1,
            last_decline=code[:64],
            version=PaymentLink.version + 1,
        )
        .execution_options(synchronize_session=False)
    )


def authorize_link(
    s: Session,
    link: PaymentLink,
    gateway_ref: str,
    *,
    masked_pan: str | None,
    brand: str | None,
    now: datetime,
) -> bool:
    """Record an approved hold on a pending, unexpired link. False: the link was not payable
    any more (paid meanwhile, cancelled, expired) and the caller must release the hold."""
    if now >= link.expires_at:
        expire_if_due(s, link, now)
        return False
    if not transition(s, link.id, PENDING, AUTHORIZED, now):
        return False
    s.add(
        Payment(
            station_id=link.station_id,
            method="link",
            link_id=link.id,
            session_pk=None,
            gateway=link.gateway,
            gateway_ref=gateway_ref,
            currency=link.currency,
            authorized_minor=link.amount_minor,
            captured_minor=None,
            released=False,
            status="authorized",
            failure="",
            masked_pan=masked_pan,
            card_brand=brand,
            created_at=now,
            captured_at=None,
        )
    )
    s.flush()
    s.refresh(link)
    return True


def link_payment(s: Session, link_id: str) -> Payment | None:
    return s.scalar(
        select(Payment).where(Payment.link_id == link_id, Payment.method == "link").limit(1)
    )
