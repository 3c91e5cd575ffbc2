"""Index card receipts per station and terminal: reconciliation finds a receipt reported twice
from this index alone, instead of hashing every payment.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_CARD_RECEIPTS = "method = 'card' AND receipt_no IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_payments_card_receipt",
        "payments",
        ["station_id", "terminal_id", "receipt_no", "created_at"],
        postgresql_where=sa.text(_CARD_RECEIPTS),
        sqlite_where=sa.text(_CARD_RECEIPTS),
    )


def downgrade() -> None:
    op.drop_index("ix_payments_card_receipt", table_name="payments")
