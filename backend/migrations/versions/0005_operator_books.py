"""The operator's books: operator accounts and sign-in sessions, the audit trail, notes on
reconciliation findings, refunds, and what payment providers settled and paid out.

Revision ID: 0005
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.models import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _pk() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "operators",
        _pk(),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operators.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_operator_sessions_operator_id", "operator_sessions", ["operator_id"])
    op.create_table(
        "login_failures",
        _pk(),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
    )
    for col in ("username", "client", "at"):
        op.create_index(f"ix_login_failures_{col}", "login_failures", [col])
    op.create_table(
        "audit_events",
        _pk(),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"])
    op.create_table(
        "discrepancy_notes",
        _pk(),
        sa.Column("finding_key", sa.String(255), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("cls", sa.String(32), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("note", sa.String(2000), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_discrepancy_notes_finding_key", "discrepancy_notes", ["finding_key"])
    op.create_table(
        "refunds",
        _pk(),
        sa.Column("request_key", sa.String(64), nullable=False, unique=True),
        sa.Column("station_id", sa.String(64), sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("session_pk", sa.Integer(), sa.ForeignKey("sessions.pk"), nullable=False),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("gateway_ref", sa.String(255), nullable=True),
        sa.Column("failure", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    for col in ("station_id", "session_pk", "payment_id", "gateway_ref", "created_at"):
        op.create_index(f"ix_refunds_{col}", "refunds", [col])
    op.create_table(
        "sandbox_refunds",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("intent_id", sa.String(64), sa.ForeignKey("sandbox_intents.id"), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_sandbox_refunds_intent_id", "sandbox_refunds", ["intent_id"])
    op.create_table(
        "settlement_records",
        _pk(),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("booked_at", UtcDateTime(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("gross_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(255), nullable=True),
        sa.Column("terminal_id", sa.String(16), nullable=True),
        sa.Column("receipt_no", sa.Integer(), nullable=True),
        sa.Column("payout_ref", sa.String(255), nullable=True),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payments.id"), nullable=True),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("imported_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("provider", "external_id"),
    )
    for col in ("provider", "booked_at", "reference", "payout_ref", "payment_id"):
        op.create_index(f"ix_settlement_records_{col}", "settlement_records", [col])
    op.create_table(
        "payouts",
        _pk(),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("paid_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("imported_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("provider", "external_id"),
    )
    op.create_index("ix_payouts_paid_at", "payouts", ["paid_at"])


def downgrade() -> None:
    for table in (
        "payouts",
        "settlement_records",
        "sandbox_refunds",
        "refunds",
        "discrepancy_notes",
        "audit_events",
        "login_failures",
        "operator_sessions",
        "operators",
    ):
        op.drop_table(table)
