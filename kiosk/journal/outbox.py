"""The journal's outbox and end-of-day records: what the sender, end-of-day and status read
and write. A mixin of `Journal` (kiosk.journal.store), sharing its connection, lock and
transactions; kept apart so the store stays about the machine's steps.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from kiosk.journal.codec import dumps


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    id: int
    kind: str
    idempotency_key: str
    payload_json: str
    attempts: int
    next_attempt_at: datetime | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat()


class OutboxJournal:
    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def instance(self) -> str:
        """This journal's random name (made with it): part of the idempotency key of every
        record keyed by a local row id, so a new journal never repeats an old one's key."""
        return str(self._read("SELECT instance FROM journal_identity")[0][0])

    def outbox_add(
        self, kind: str, idempotency_key: str, payload: object, at: datetime | None = None
    ) -> bool:
        """Queue a record that closes nothing in the machine (end-of-day totals). False if a
        record with this key is queued already."""
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO outbox (kind, idempotency_key, payload_json, created_at) "
                "VALUES (?,?,?,?)",
                (kind, idempotency_key, dumps(payload), (at.isoformat() if at else _now())),
            )
            return cursor.rowcount == 1

    def record_end_of_day(
        self,
        business_day: date,
        at: datetime,
        *,
        outcome: str,
        terminal_id: str | None,
        totals: object = None,
        journal_side: object = None,
        mismatch: object = None,
        detail: str = "",
        report: object = None,
    ) -> int:
        """One end-of-day run; an approved one's report is queued in the same transaction."""
        instance = self.instance()
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO end_of_day (business_day, at, outcome, terminal_id, totals_json, "
                "journal_json, mismatch_json, detail) VALUES (?,?,?,?,?,?,?,?)",
                (
                    business_day.isoformat(),
                    at.isoformat(),
                    outcome,
                    terminal_id,
                    None if totals is None else dumps(totals),
                    None if journal_side is None else dumps(journal_side),
                    None if mismatch is None else dumps(mismatch),
                    detail,
                ),
            )
            run_id = int(cursor.lastrowid or 0)
            if report is not None:
                conn.execute(
                    "INSERT INTO outbox (kind, idempotency_key, payload_json, created_at) "
                    "VALUES ('end_of_day', ?, ?, ?)",
                    (
                        f"end_of_day:{terminal_id}:{business_day}:{instance}:{run_id}",
                        dumps(report),
                        at.isoformat(),
                    ),
                )
            return run_id

    def last_end_of_day_result_id(self) -> int:
        """The last card result an approved end-of-day covered (0: none yet)."""
        rows = self._read(
            "SELECT journal_json FROM end_of_day WHERE outcome = 'approved' ORDER BY id DESC "
            "LIMIT 1"
        )
        if not rows or rows[0][0] is None:
            return 0
        return int(json.loads(rows[0][0]).get("through_result_id", 0))

    def outbox_delivered(
        self,
        record_id: int,
        status_code: int,
        answer: Mapping[str, object] | None = None,
        at: datetime | None = None,
    ) -> None:
        """The backend accepted the record (its idempotency key makes a repeat harmless)."""
        when = at.isoformat() if at else _now()
        with self._tx() as conn:
            conn.execute(
                "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = ?, "
                "ack_json = ?, last_attempt_at = ? WHERE id = ?",
                (when, f"accepted {status_code}", dumps(answer or {}), when, record_id),
            )

    def outbox_failed(
        self, record_id: int, error: str, next_attempt_at: datetime, at: datetime | None = None
    ) -> None:
        """Delivery failed; try again at next_attempt_at (the sender's backoff)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
                "last_attempt_at = ? WHERE id = ?",
                (
                    error[:500],
                    next_attempt_at.isoformat(),
                    (at.isoformat() if at else _now()),
                    record_id,
                ),
            )

    def outbox_parked(
        self,
        record_id: int,
        status_code: int,
        answer: Mapping[str, object],
        at: datetime | None = None,
    ) -> None:
        """The backend refused the record for good (4xx): keep it, show it, stop sending it."""
        when = at.isoformat() if at else _now()
        with self._tx() as conn:
            conn.execute(
                "UPDATE outbox SET parked_at = ?, attempts = attempts + 1, last_error = ?, "
                "ack_json = ?, last_attempt_at = ? WHERE id = ?",
                (when, f"refused {status_code}", dumps(answer), when, record_id),
            )

    def outbox_unpark(self) -> int:
        """Queue every parked record again (after the operator fixed the cause)."""
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE outbox SET parked_at = NULL, next_attempt_at = NULL "
                "WHERE parked_at IS NOT NULL AND delivered_at IS NULL"
            )
            return cursor.rowcount

    def outbox_pending(self, limit: int = 100, due: datetime | None = None) -> list[OutboxRecord]:
        """Undelivered, unparked records, oldest first; with `due`, only those whose retry
        time came."""
        rows = self._read(
            "SELECT id, kind, idempotency_key, payload_json, attempts, next_attempt_at FROM outbox "
            "WHERE delivered_at IS NULL AND parked_at IS NULL "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id LIMIT ?",
            ((due or datetime.max.replace(tzinfo=UTC)).isoformat(), limit),
        )
        return [_outbox_record(row) for row in rows]

    def outbox_queue(self, limit: int = 100) -> list[OutboxRecord]:
        """Undelivered, unparked records in the order they must arrive, due or not."""
        rows = self._read(
            "SELECT id, kind, idempotency_key, payload_json, attempts, next_attempt_at FROM outbox "
            "WHERE delivered_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT ?",
            (limit,),
        )
        return [_outbox_record(row) for row in rows]


def _outbox_record(row: tuple[Any, ...]) -> OutboxRecord:
    record_id, kind, key, payload, attempts, next_at = row
    return OutboxRecord(
        record_id,
        kind,
        key,
        payload,
        attempts,
        None if next_at is None else datetime.fromisoformat(next_at),
    )
