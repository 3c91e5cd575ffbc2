"""Initial schema: stations, payment links, payments, sessions, terminal totals.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency",
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "key"),
    )
    op.create_table(
        "sandbox_intents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("amount_received", sa.BigInteger(), nullable=False),
        sa.Column("masked_pan", sa.String(length=19), nullable=False),
        sa.Column("brand", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "stations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_id"),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "payment_links",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("connector_id", sa.String(length=36), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tariff", sa.JSON(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("authorized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("declines", sa.Integer(), nullable=False),
        sa.Column("last_decline", sa.String(length=64), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("gateway_checkout", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payment_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_links_station_id"), ["station_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payment_links_status"), ["status"], unique=False)

    op.create_table(
        "sessions",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("receipt_id", sa.String(length=32), nullable=False),
        sa.Column("connector_id", sa.String(length=36), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meter_start_wh", sa.BigInteger(), nullable=False),
        sa.Column("meter_end_wh", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("tariff", sa.JSON(), nullable=False),
        sa.Column("cdr", sa.JSON(), nullable=False),
        sa.Column("reported_minor", sa.BigInteger(), nullable=False),
        sa.Column("computed_minor", sa.BigInteger(), nullable=False),
        sa.Column("computed", sa.JSON(), nullable=False),
        sa.Column("payment_method", sa.String(length=8), nullable=False),
        sa.Column("link_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
        ),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("receipt_id"),
        sa.UniqueConstraint("station_id", "session_id"),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_ended_at"), ["ended_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sessions_station_id"), ["station_id"], unique=False)

    op.create_table(
        "terminal_totals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("terminal_id", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("receipt_from", sa.Integer(), nullable=True),
        sa.Column("receipt_to", sa.Integer(), nullable=True),
        sa.Column("trace_no", sa.Integer(), nullable=True),
        sa.Column("brands", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("terminal_totals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_terminal_totals_closed_at"), ["closed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_terminal_totals_station_id"), ["station_id"], unique=False
        )

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("link_id", sa.String(length=64), nullable=True),
        sa.Column("session_pk", sa.Integer(), nullable=True),
        sa.Column("gateway", sa.String(length=16), nullable=True),
        sa.Column("gateway_ref", sa.String(length=255), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("authorized_minor", sa.BigInteger(), nullable=False),
        sa.Column("captured_minor", sa.BigInteger(), nullable=True),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure", sa.String(length=200), nullable=False),
        sa.Column("terminal_id", sa.String(length=16), nullable=True),
        sa.Column("receipt_no", sa.Integer(), nullable=True),
        sa.Column("trace_no", sa.Integer(), nullable=True),
        sa.Column("auth_code", sa.String(length=16), nullable=True),
        sa.Column("card_brand", sa.String(length=32), nullable=True),
        sa.Column("masked_pan", sa.String(length=19), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["payment_links.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_pk"],
            ["sessions.pk"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_gateway_ref"), ["gateway_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_link_id"), ["link_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_session_pk"), ["session_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_station_id"), ["station_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_station_id"))
        batch_op.drop_index(batch_op.f("ix_payments_session_pk"))
        batch_op.drop_index(batch_op.f("ix_payments_link_id"))
        batch_op.drop_index(batch_op.f("ix_payments_gateway_ref"))

    op.drop_table("payments")
    with op.batch_alter_table("terminal_totals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_terminal_totals_station_id"))
        batch_op.drop_index(batch_op.f("ix_terminal_totals_closed_at"))

    op.drop_table("terminal_totals")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_station_id"))
        batch_op.drop_index(batch_op.f("ix_sessions_ended_at"))

    op.drop_table("sessions")
    with op.batch_alter_table("payment_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_links_status"))
        batch_op.drop_index(batch_op.f("ix_payment_links_station_id"))

    op.drop_table("payment_links")
    op.drop_table("webhook_events")
    op.drop_table("stations")
    op.drop_table("server_secrets")
    op.drop_table("sandbox_intents")
    op.drop_table("idempotency")
