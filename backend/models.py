"""The backend's tables (SQLAlchemy 2). Money is integer minor units; times are UTC.

Billing records are never edited into something else: a link moves forward through its states,
a session is stored once, a payment records its hold, capture and release as separate columns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (no zones) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


CARD_RECEIPTS = "method = 'card' AND receipt_no IS NOT NULL"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        int: Integer,
    }


def table_of(model: type[Base]) -> Table:
    """A model's table, typed as the Table it is (SQLAlchemy declares `__table__` a
    FromClause), for Core statements on the hot paths."""
    found = model.__table__
    assert isinstance(found, Table)
    return found


class ServerSecret(Base):
    """Secrets generated on first start (receipt signing key). Kept in the DB so every worker
    and every restart signs the same way."""

    __tablename__ = "server_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class Station(Base):
    __tablename__ = "stations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class PaymentLink(Base):
    __tablename__ = "payment_links"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    connector_id: Mapped[str] = mapped_column(String(36))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    tariff: Mapped[dict[str, Any]]
    time_zone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    authorized_at: Mapped[datetime | None]
    # Bumped on every status change; long-polls compare it to notice a change.
    version: Mapped[int] = mapped_column(default=0)
    declines: Mapped[int] = mapped_column(default=0)
    last_decline: Mapped[str] = mapped_column(String(64), default="")
    gateway: Mapped[str] = mapped_column(String(16))
    # The gateway's own object (Stripe Checkout Session id while pending).
    gateway_checkout: Mapped[str | None] = mapped_column(String(255))


class Payment(Base):
    """One authorisation and what became of it: a QR-link hold or a terminal pre-auth."""

    __tablename__ = "payments"
    # Reconciliation looks for a card receipt stored twice in this index alone.
    __table_args__ = (
        Index(
            "ix_payments_card_receipt",
            "station_id",
            "terminal_id",
            "receipt_no",
            "created_at",
            postgresql_where=text(CARD_RECEIPTS),
            sqlite_where=text(CARD_RECEIPTS),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    method: Mapped[str] = mapped_column(String(8))  # "link" | "card"
    link_id: Mapped[str | None] = mapped_column(ForeignKey("payment_links.id"), index=True)
    session_pk: Mapped[int | None] = mapped_column(ForeignKey("sessions.pk"), index=True)
    gateway: Mapped[str | None] = mapped_column(String(16))
    gateway_ref: Mapped[str | None] = mapped_column(String(255), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    authorized_minor: Mapped[int] = mapped_column(BigInteger)
    captured_minor: Mapped[int | None] = mapped_column(BigInteger)
    released: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # authorized | captured | released | failed
    failure: Mapped[str] = mapped_column(String(200), default="")
    terminal_id: Mapped[str | None] = mapped_column(String(16))
    receipt_no: Mapped[int | None]
    trace_no: Mapped[int | None]
    auth_code: Mapped[str | None] = mapped_column(String(16))
    card_brand: Mapped[str | None] = mapped_column(String(32))
    masked_pan: Mapped[str | None] = mapped_column(String(19))
    created_at: Mapped[datetime]
    captured_at: Mapped[datetime | None]


class ChargingSession(Base):
    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("station_id", "session_id"),)
    pk: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)  # kiosk receipt links
    receipt_id: Mapped[str] = mapped_column(String(32), unique=True)
    connector_id: Mapped[str] = mapped_column(String(36))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    meter_start_wh: Mapped[int] = mapped_column(BigInteger)
    meter_end_wh: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    time_zone: Mapped[str] = mapped_column(String(64))
    tariff: Mapped[dict[str, Any]]
    cdr: Mapped[dict[str, Any]]
    reported_minor: Mapped[int] = mapped_column(BigInteger)
    computed_minor: Mapped[int] = mapped_column(BigInteger)
    computed: Mapped[dict[str, Any]]  # the engine's breakdown (OCPI totals) for the receipt
    payment_method: Mapped[str] = mapped_column(String(8))  # link | card | none | csms
    link_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # The first answer, replayed verbatim to repeats of the same session id.
    response: Mapped[dict[str, Any]]


class OcmfStored(Base):
    """A signed meter record as a station reported it, kept as received, per meter and number.

    `verified`/`problems` are the result of the check on ingest; reconciliation checks the
    stored text again, so a record changed in the database is caught."""

    __tablename__ = "ocmf_records"
    __table_args__ = (UniqueConstraint("meter_serial", "transaction_no"),)

    pk: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    session_pk: Mapped[int] = mapped_column(ForeignKey("sessions.pk"), index=True)
    meter_serial: Mapped[str] = mapped_column(String(64))
    transaction_no: Mapped[int | None] = mapped_column(BigInteger)  # T<n>; NULL: no record
    record: Mapped[str | None] = mapped_column(Text)
    public_key: Mapped[str | None] = mapped_column(String(512))
    verified: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[str] = mapped_column(Text)  # "" when sound
    signed_energy_wh: Mapped[int | None] = mapped_column(BigInteger)
    kiosk_flags: Mapped[dict[str, Any]]  # {"flags": [...], "detail": "..."}
    received_at: Mapped[datetime]


class TerminalTotals(Base):
    """A terminal's end-of-day (batch close) totals as the kiosk reported them."""

    __tablename__ = "terminal_totals"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    terminal_id: Mapped[str] = mapped_column(String(16))
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int | None]
    receipt_from: Mapped[int | None]
    receipt_to: Mapped[int | None]
    trace_no: Mapped[int | None]
    brands: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class IdempotentResponse(Base):
    """The first answer to a station's request with a given Idempotency-Key."""

    __tablename__ = "idempotency"
    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class WebhookEvent(Base):
    """Gateway events already handled (delivery is at-least-once: dedupe on the event id)."""

    __tablename__ = "webhook_events"
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime]


class SandboxIntent(Base):
    """The sandbox gateway's own ledger: one row per authorisation it granted."""

    __tablename__ = "sandbox_intents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24))  # requires_capture | succeeded | canceled
    amount_received: Mapped[int] = mapped_column(BigInteger, default=0)
    masked_pan: Mapped[str] = mapped_column(String(19))
    brand: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime]


# --------------------------------------------------------------------------- operator's books


class Operator(Base):
    """A person who signs in to the operator pages. Roles: viewer < operator < admin."""

    __tablename__ = "operators"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, PHC string
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2), default="en")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class OperatorSession(Base):
    """A signed-in browser. The cookie holds a random token; only its hash is stored, so a
    database copy signs nobody in. Logging out ends the row: the cookie is then worthless."""

    __tablename__ = "operator_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class LoginFailure(Base):
    """One failed sign-in, counted per user name and per client to slow down guessing."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class AuditEvent(Base):
    """Who did what, when and why. Rows are only ever added."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255), index=True)
    detail: Mapped[dict[str, Any]]


class DiscrepancyNote(Base):
    """ "Resolved, because ...": a note on a finding. The finding itself is recomputed by every
    reconciliation and stays visible; notes are only added, never edited."""

    __tablename__ = "discrepancy_notes"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    finding_key: Mapped[str] = mapped_column(String(255), index=True)
    station_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10))
    cls: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(500))
    note: Mapped[str] = mapped_column(String(2000))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Refund(Base):
    """Money given back for a session: through the gateway (QR) or as an instruction recorded
    for the card acquirer. request_key makes a repeated form post the same refund."""

    __tablename__ = "refunds"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    session_pk: Mapped[int] = mapped_column(ForeignKey("sessions.pk"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    method: Mapped[str] = mapped_column(String(8))  # link | card
    provider: Mapped[str] = mapped_column(String(16))  # sandbox | stripe | acquirer
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(500))
    # pending (gateway not yet answered) | succeeded | failed | instructed (card acquirer)
    status: Mapped[str] = mapped_column(String(16))
    gateway_ref: Mapped[str | None] = mapped_column(String(255), index=True)
    failure: Mapped[str] = mapped_column(String(200), default="")
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class SandboxRefund(Base):
    """The sandbox gateway's ledger of refunds (one per idempotency key)."""

    __tablename__ = "sandbox_refunds"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    intent_id: Mapped[str] = mapped_column(ForeignKey("sandbox_intents.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime]


class SettlementRecord(Base):
    """One line of what a payment provider says it booked: a charge, refund, fee, dispute or
    payout (Stripe balance transactions and payouts, acquirers' settlement files)."""

    __tablename__ = "settlement_records"
    __table_args__ = (UniqueConstraint("provider", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(32), index=True)
    external_id: Mapped[str] = mapped_column(String(255))
    # charge | refund | dispute | fee | payout | other
    kind: Mapped[str] = mapped_column(String(16))
    booked_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    gross_minor: Mapped[int] = mapped_column(BigInteger)
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    # What ties the line to our records: a PaymentIntent id, a merchant reference, a terminal
    # and receipt number.
    reference: Mapped[str | None] = mapped_column(String(255), index=True)
    terminal_id: Mapped[str | None] = mapped_column(String(16))
    receipt_no: Mapped[int | None]
    payout_ref: Mapped[str | None] = mapped_column(String(255), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    source: Mapped[str] = mapped_column(String(255))  # file name or API
    imported_at: Mapped[datetime]


class Payout(Base):
    """A transfer a provider says it sent to the operator's bank account."""

    __tablename__ = "payouts"
    __table_args__ = (UniqueConstraint("provider", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    paid_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16))
    imported_at: Mapped[datetime]


__all__ = [
    "CARD_RECEIPTS",
    "AuditEvent",
    "Base",
    "ChargingSession",
    "DiscrepancyNote",
    "IdempotentResponse",
    "LoginFailure",
    "Operator",
    "OperatorSession",
    "Payment",
    "PaymentLink",
    "Payout",
    "Refund",
    "SandboxIntent",
    "SandboxRefund",
    "ServerSecret",
    "SettlementRecord",
    "Station",
    "TerminalTotals",
    "UtcDateTime",
    "WebhookEvent",
]
