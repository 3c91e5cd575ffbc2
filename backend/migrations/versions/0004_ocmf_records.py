"""Signed meter records (OCMF, Eichrecht), one per meter and transaction number.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ocmf_records",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("session_pk", sa.Integer(), nullable=False),
        sa.Column("meter_serial", sa.String(length=64), nullable=False),
        sa.Column("transaction_no", sa.BigInteger(), nullable=True),
        sa.Column("record", sa.Text(), nullable=True),
        sa.Column("public_key", sa.String(length=512), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("signed_energy_wh", sa.BigInteger(), nullable=True),
        sa.Column("kiosk_flags", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_pk"], ["sessions.pk"]),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"]),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("meter_serial", "transaction_no"),
    )
    op.create_index("ix_ocmf_records_station_id", "ocmf_records", ["station_id"])
    op.create_index("ix_ocmf_records_session_pk", "ocmf_records", ["session_pk"])


def downgrade() -> None:
    op.drop_index("ix_ocmf_records_session_pk", table_name="ocmf_records")
    op.drop_index("ix_ocmf_records_station_id", table_name="ocmf_records")
    op.drop_table("ocmf_records")
