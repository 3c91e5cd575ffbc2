"""Everything a request handler needs, built once per app: database, gateway, settler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from fastapi import HTTPException, Request
from sqlalchemy import select

from backend import auth
from backend.config import Settings
from backend.db import Database
from backend.gateways import Gateway
from backend.gateways.sandbox import SandboxGateway
from backend.gateways.stripe import StripeGateway
from backend.models import Station
from backend.notify import LinkChanges
from backend.receipts import SECRET_NAME, token_for
from backend.settlement import Settler

if TYPE_CHECKING:
    from backend.ingest_async import AsyncIngest


@dataclass
class Services:
    settings: Settings
    db: Database
    gateway: Gateway
    settler: Settler
    changes: LinkChanges
    receipt_secret: str
    # PostgreSQL, while the app's lifespan runs: reports stored from the event loop.
    fast_ingest: AsyncIngest | None = None

    def receipt_url(self, receipt_id: str) -> str:
        token = token_for(self.receipt_secret, receipt_id)
        return f"{self.settings.public_url.rstrip('/')}/r/{token}"

    def close(self) -> None:
        if isinstance(self.gateway, StripeGateway):
            self.gateway.close()
        self.db.dispose()

    @property
    def sandbox(self) -> SandboxGateway | None:
        return self.gateway if isinstance(self.gateway, SandboxGateway) else None

    @property
    def stripe(self) -> StripeGateway | None:
        return self.gateway if isinstance(self.gateway, StripeGateway) else None


def build_services(settings: Settings, db: Database | None = None) -> Services:
    db = db or Database(settings.db_url)
    db.migrate()
    gateway: Gateway
    if settings.gateway == "sandbox":
        gateway = SandboxGateway(db, settings.now)
    elif settings.gateway == "stripe":
        gateway = StripeGateway(settings.stripe_api_key, settings.stripe_api_base)
    else:
        raise ValueError(f"gateway {settings.gateway!r}: use 'sandbox' or 'stripe'")
    changes = LinkChanges()
    return Services(
        settings=settings,
        db=db,
        gateway=gateway,
        settler=Settler(db, settings, gateway, changes),
        changes=changes,
        receipt_secret=db.secret(SECRET_NAME),
    )


def services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


UNAUTHORIZED = HTTPException(
    status_code=401,
    detail="missing or invalid API key (Authorization: Bearer <station key>)",
    headers={"WWW-Authenticate": "Bearer"},
)


def authenticate(svc: Services, authorization: str | None) -> str:
    """The station id a bearer key belongs to, or 401."""
    token = auth.bearer_token(authorization)
    parts = auth.split_key(token) if token else None
    if parts is None:
        raise UNAUTHORIZED
    key_id, secret = parts
    with svc.db.read() as s:
        station = s.scalar(select(Station).where(Station.key_id == key_id))
        if station is None or not auth.secret_matches(secret, station.key_hash):
            raise UNAUTHORIZED
        return station.id
