"""What `evkiosk status` reports, read from the journal alone (read-only, no device I/O).

Works on every schema version this evkiosk knows: columns and tables added by later
migrations (parked outbox records, the end_of_day table of schema 3) are used when present.
Without an end_of_day table the last end-of-day is taken from an outbox record of a
terminal-totals kind, if one was queued.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.ops.journalfile import open_readonly, users_of

END_OF_DAY_KINDS = ("terminal_totals", "terminal-totals", "end_of_day")


@dataclass(frozen=True, slots=True)
class Summary:
    journal: str
    schema_version: int
    open_sessions: list[dict[str, Any]]
    holds: list[dict[str, Any]]
    outbox: dict[str, Any]
    last_end_of_day: dict[str, Any] | None
    devices: list[dict[str, Any]]
    recent_sessions: list[dict[str, Any]]
    kiosk_processes: list[str]  # processes with the journal open: the running kiosk
    csms: dict[str, Any] | None = None  # the CSMS link as it last changed; None: never joined


def _age_s(stamp: str | None, now: datetime) -> int | None:
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int((now - when).total_seconds()))


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
    return [dict(r) for r in conn.execute(sql, params).fetchall()]


def summarise(journal: Path, now: datetime | None = None, recent: int = 10) -> Summary:
    now = now or datetime.now(UTC)
    conn = open_readonly(journal)
    conn.row_factory = sqlite3.Row
    try:
        # One read transaction: every figure comes from the same moment, even while the kiosk
        # writes.
        conn.execute("BEGIN")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        open_sessions = _rows(
            conn,
            "SELECT session_id, connector_id, phase, created_at, updated_at, hold_minor, "
            "currency FROM sessions WHERE closed_at IS NULL AND phase != 'closed' "
            "ORDER BY created_at",
        )
        for s in open_sessions:
            s["idle_s"] = _age_s(s["updated_at"], now)
        holds = _rows(
            conn,
            "SELECT a.session_id, s.connector_id, a.method, a.amount_minor, a.currency, "
            "a.receipt_no, a.terminal_id, a.masked_pan, a.card_brand, a.link_id, a.at, s.phase "
            "FROM authorisations a JOIN sessions s USING (session_id) "
            "WHERE s.closed_at IS NULL ORDER BY a.at",
        )
        # An approval the machine has not taken in yet is a hold all the same.
        holds += [
            {**r, "method": "card", "phase": "not yet seen by the session"}
            for r in _rows(
                conn,
                "SELECT c.session_id, NULL AS connector_id, c.amount_minor, c.currency, "
                "c.receipt_no, c.terminal_id, c.masked_pan, c.card_brand, NULL AS link_id, c.at "
                "FROM card_results c WHERE c.kind = 'preauth' AND c.consumed = 0 "
                "AND c.outcome = 'approved' AND NOT EXISTS (SELECT 1 FROM authorisations a "
                "WHERE a.session_id IS c.session_id)",
            )
        ]
        outbox = _outbox(conn, now)
        csms = _csms(conn)
        end_of_day = _end_of_day(conn)
        devices = _rows(
            conn,
            "SELECT s.connector_id, max(r.measured_at) AS last_reading_at, "
            "(SELECT r2.energy_wh FROM readings r2 JOIN sessions s2 USING (session_id) "
            " WHERE s2.connector_id = s.connector_id ORDER BY r2.id DESC LIMIT 1) AS energy_wh "
            "FROM readings r JOIN sessions s USING (session_id) GROUP BY s.connector_id "
            "ORDER BY s.connector_id",
        )
        last_card = _rows(
            conn,
            "SELECT kind, outcome, terminal_id, at FROM card_results ORDER BY id DESC LIMIT 1",
        )
        if last_card:
            devices.append({"terminal": last_card[0]})
        recent_sessions = _rows(
            conn,
            "SELECT s.session_id, s.connector_id, s.phase, s.created_at, s.closed_at, "
            "s.currency, (SELECT cost_minor FROM readings r WHERE r.session_id = s.session_id "
            "ORDER BY r.id DESC LIMIT 1) AS cost_minor, "
            "(SELECT max(r.energy_wh) - min(r.energy_wh) FROM readings r "
            " WHERE r.session_id = s.session_id) AS energy_wh "
            "FROM sessions s ORDER BY s.created_at DESC LIMIT ?",
            (recent,),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    running = [u.describe() for u in users_of(journal)]
    return Summary(
        str(journal),
        version,
        open_sessions,
        holds,
        outbox,
        end_of_day,
        devices,
        recent_sessions,
        running,
        csms,
    )


def _csms(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The CSMS link's last state and the messages waiting for it (journals with an ocpp_link
    table whose link ever started)."""
    if not _columns(conn, "ocpp_link"):
        return None
    rows = _rows(conn, "SELECT connected, version, last_error, changed_at FROM ocpp_link")
    if not rows:
        return None
    queued = conn.execute("SELECT count(*) FROM ocpp_queue WHERE sent_at IS NULL").fetchone()
    return {**rows[0], "connected": bool(rows[0]["connected"]), "queued": int(queued[0])}


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {str(r["name"]) for r in conn.execute(f"PRAGMA table_info({table})").fetchall()}


def _outbox(conn: sqlite3.Connection, now: datetime) -> dict[str, Any]:
    has_parking = "parked_at" in _columns(conn, "outbox")
    waiting = "delivered_at IS NULL" + (" AND parked_at IS NULL" if has_parking else "")
    queued = conn.execute(
        f"SELECT count(*), min(created_at) FROM outbox WHERE {waiting}"  # noqa: S608 - fixed text
    ).fetchone()
    delivered = conn.execute(
        "SELECT count(*), max(delivered_at) FROM outbox WHERE delivered_at IS NOT NULL"
    ).fetchone()
    parked = (
        _rows(
            conn,
            "SELECT idempotency_key AS record, kind, parked_at, last_error AS error FROM outbox "
            "WHERE parked_at IS NOT NULL AND delivered_at IS NULL ORDER BY id",
        )
        if has_parking
        else []
    )
    error = conn.execute(
        "SELECT idempotency_key, last_error, attempts, next_attempt_at FROM outbox "  # noqa: S608
        f"WHERE {waiting} AND last_error IS NOT NULL "
        "ORDER BY coalesce(next_attempt_at, created_at) DESC, id DESC LIMIT 1"
    ).fetchone()
    return {
        "queued": int(queued[0]),
        "oldest_queued_at": queued[1],
        "oldest_queued_age_s": _age_s(queued[1], now),
        "delivered": int(delivered[0]),
        "last_delivered_at": delivered[1],
        "parked": parked,  # refused by the backend (4xx): kept, not sent again until unparked
        "last_error": None
        if error is None
        else {
            "record": error["idempotency_key"],
            "error": error["last_error"],
            "attempts": error["attempts"],
            "next_attempt_at": error["next_attempt_at"],
        },
    }


def _end_of_day(conn: sqlite3.Connection) -> dict[str, Any] | None:
    if _columns(conn, "end_of_day"):
        rows = _rows(
            conn,
            "SELECT business_day, at, outcome, terminal_id, mismatch_json, detail "
            "FROM end_of_day ORDER BY id DESC LIMIT 1",
        )
        return rows[0] if rows else None
    marks = ",".join("?" for _ in END_OF_DAY_KINDS)
    rows = _rows(
        conn,
        "SELECT kind, idempotency_key, created_at AS at, delivered_at FROM outbox "  # noqa: S608
        f"WHERE kind IN ({marks}) ORDER BY id DESC LIMIT 1",
        END_OF_DAY_KINDS,
    )
    return rows[0] if rows else None
