"""Index sessions by session id alone: kiosk-signed receipt addresses name only the session.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sessions_session_id", "sessions", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_sessions_session_id", table_name="sessions")
