"""PostgreSQL: card and unpaid session reports stored from the event loop, through psycopg's
async API and a pool of its connections (psycopg_pool), not in an ingest thread.

In a thread, each report paid for the hop there and back and for the GIL handed between the
event loop and a dozen threads waiting on the database: on the 2-core benchmark machine about
a quarter of the report's CPU went to that. On the loop the same statements
(`ingest_plain.session_steps`: key check, Idempotency-Key, one INSERT) wait for the database
as any coroutine waits, and reports still overlap their round trips. The pool belongs to the
worker's event loop: it is opened and closed by the app's lifespan.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine
from sqlalchemy.engine import Dialect

from backend import auth, direct_sql, ingest, ingest_batch, ingest_plain, json_rows
from backend.models import ChargingSession, table_of
from backend.pricing import Computed
from backend.schemas import SessionReport

_SESSIONS = table_of(ChargingSession)
# Connections of one worker's pool: as many reports wait for the database at once as ingest
# threads did (backend.report_handlers.INGEST_THREADS).
MAX_CONNECTIONS = 12
# How long a report waits for a free or new connection before it fails (5xx: retried).
CONNECT_TIMEOUT_S = 10.0


class AsyncIngest:
    """The event loop's way to store a card or unpaid session report on PostgreSQL."""

    def __init__(self, engine: Engine, max_connections: int = MAX_CONNECTIONS) -> None:
        assert engine.dialect.name == "postgresql"
        self._dialect = engine.dialect
        # The engine's own connection arguments: the same server, and the same JSON loads
        # (exact decimals, backend.jsonutil) for what the statements read back.
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        self._pool = AsyncConnectionPool(
            cargs[0] if cargs else "",
            kwargs={**cparams, "autocommit": True},
            min_size=1,
            max_size=max_connections,
            timeout=CONNECT_TIMEOUT_S,
            open=False,
            name="ingest",
        )

    async def open(self) -> None:
        await self._pool.open(wait=False)  # connections come as reports need them

    async def close(self) -> None:
        await self._pool.close()

    async def store_session(
        self,
        caller: ingest.Caller,
        *,
        report: SessionReport,
        exact: dict[str, Any],
        computed: Computed,
        receipt_url: Callable[[str], str],
        now: datetime,
    ) -> ingest.Stored:
        """As `ingest_plain.store_session` for a card or unpaid report; a stored session
        raises ingest_plain.Repeat (its answer may have to be waited for)."""
        steps = ingest_plain.session_steps(
            self._dialect,
            caller,
            report=report,
            exact=exact,
            computed=computed,
            receipt_url=receipt_url,
            now=now,
        )
        async with self._pool.connection() as conn:
            return await run(conn.cursor(), steps)

    async def store_batch(
        self,
        caller: ingest.Caller,
        records: dict[int, ingest_batch.Record],
        *,
        receipt_url: Callable[[str], str],
        now: datetime,
    ) -> tuple[dict[int, ingest_batch.Result], dict[int, ingest_batch.Record]]:
        """A batch's card and unpaid records stored by one INSERT (`ingest_batch`): their
        results, and the records left to the one-by-one path (`ingest_batch.store_each`): QR
        and signed sessions, sessions whose first answer is still being written, and all of
        them if another request stored one of these sessions meanwhile. Raises
        ingest.Unauthorized for a key that names no station."""
        plain, single = ingest_batch.split(records)
        parts = auth.key_parts(caller.authorization)
        if parts is None:
            raise ingest.Unauthorized
        sql = _batch_statements(self._dialect)
        async with self._pool.connection() as conn:
            cur = conn.cursor()
            await cur.execute(sql.station.sql, sql.station.params({"key_id": parts[0]}))
            found = await cur.fetchone()
            if found is None or not auth.secret_matches(parts[1], found[1]):
                raise ingest.Unauthorized
            station_id = str(found[0])
            # One lookup: a batch holds at most ingest_batch.MAX_RECORDS ids.
            ids = sorted({r.report.session_id for r in plain.values()})
            await cur.execute(
                sql.stored.sql, sql.stored.params({"station_id": station_id, "ids": ids})
            )
            found_rows = [sql.stored.row(raw) for raw in await cur.fetchall()]
            stored = {row[0]: row[1] for row in found_rows if row is not None}
            plan = ingest_batch.plan_rows(station_id, stored, plain, receipt_url, now)
            if plan.rows:
                docs = json_rows.documents(plan.rows, plan.payments)
                if docs is None:  # a NUL character: row by row, as the blocking path writes it
                    return {}, records
                try:
                    await cur.execute(sql.write.sql, sql.write.params(docs))
                except psycopg.IntegrityError:
                    return {}, records
        return plan.results, {**plan.pending, **single}


async def run(cur: psycopg.AsyncCursor[Any], steps: ingest_plain.Steps) -> ingest.Stored:
    """`ingest_plain.run` on an async cursor."""
    step = next(steps)
    while True:
        statement, values, fetch = step
        row = None
        try:
            await cur.execute(statement.sql, statement.params(values))
            if fetch:
                row = statement.row(await cur.fetchone())
        except psycopg.IntegrityError:
            step = steps.throw(ingest_plain.Conflict())
            continue
        try:
            step = steps.send(row)
        except StopIteration as done:
            stored: ingest.Stored = done.value
            return stored


class _BatchStatements:
    """A batch's statements for one PostgreSQL dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.station = direct_sql.Statement(ingest.STATION, dialect)
        self.stored = direct_sql.Statement(
            ingest_batch.STORED_PG, dialect, results=[None, _SESSIONS.c.response.type]
        )
        self.write = json_rows.statement(dialect)


_batch_statements = direct_sql.compiled_once(_BatchStatements)
