"""Engine, sessions and schema migrations (Alembic, run programmatically on start)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend import jsonutil
from backend.models import ServerSecret

READONLY = "evkiosk_readonly"


def normalise_url(url: str) -> str:
    """Accept `postgresql://` as the driver does not matter to the operator: use psycopg 3."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    # Exact decimals in JSON columns (tariff snapshots): see backend.jsonutil.
    kwargs: dict[str, Any] = {
        "json_serializer": jsonutil.dumps,
        "json_deserializer": jsonutil.loads,
    }
    if url.startswith("sqlite"):
        # One file, many threads (the pool hands a connection to whichever worker asks).
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        # No pre-ping per checkout (a round trip per request): a connection the server dropped
        # fails one request, the pool then discards all its connections, and the client retries.
        # The pool is larger than the ingest threads (backend.report_handlers.INGEST_THREADS): a
        # connection opened beyond it is closed again on return, a new session per report.
        kwargs.update(pool_size=20, max_overflow=40, pool_recycle=1800)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own transaction handling is switched off so BEGIN IMMEDIATE below is ours:
    # writers queue on the lock instead of failing with "database is locked" on upgrade.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Readers (Database.read) begin deferred: in WAL mode they never wait for a writer.
    readonly = conn.get_execution_options().get(READONLY, False)
    conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision shipped with this package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Database:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(**{READONLY: True}), expire_on_commit=False
        )

    def migrate(self) -> None:
        migrate(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on an exception."""
        with self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A unit of work that only reads (on SQLite it does not queue behind writers)."""
        with self._readers() as s, s.begin():
            yield s

    def secret(self, name: str) -> str:
        """A server secret, generated once and then the same for every worker and restart."""
        with self.session() as s:
            row = s.get(ServerSecret, name)
            if row is not None:
                return row.value
        try:
            with self.session() as s:
                s.add(ServerSecret(name=name, value=secrets.token_hex(32)))
        except IntegrityError:  # another worker created it first; read theirs
            pass
        with self.session() as s:
            value = s.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
            assert value is not None
            return value

    def dispose(self) -> None:
        self.engine.dispose()
