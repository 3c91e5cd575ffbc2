"""The shipped migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from backend.db import Database
from backend.models import Base
from tests.backend.conftest import db_url_for


@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)]
)
def test_migrations_match_models_and_are_repeatable(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = Database(db_url_for(kind, tmp_path, request))
    try:
        db.migrate()
        db.migrate()  # a second start finds nothing to do
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert set(Base.metadata.tables) <= tables
        assert "alembic_version" in tables
        assert db.secret("receipt_hmac_key") == db.secret("receipt_hmac_key")
    finally:
        db.dispose()
