"""Reading the four ledgers of one drill run, each from its own side, after the fact.

(a) the screen: the promises the kiosk wrote down as it showed them (screen.jsonl);
(b) the kiosk journal (SQLite): sessions, card results and each session's report;
(c) the terminal simulator's ledger: open pre-auths, bookings and reversals per receipt;
(d) the backend's database (SQLite): stored sessions, card payments and payment links.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.ledgers import screen


@dataclass
class JournalLedger:
    open_sessions: list[str]
    reports: dict[str, dict[str, Any]]  # session id -> its report (the outbox record)
    undelivered: int
    sessions: list[str]


@dataclass
class BackendLedger:
    sessions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by session id
    payments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # by session pk
    links: dict[str, dict[str, Any]] = field(default_factory=dict)  # by link id


@dataclass
class Ledgers:
    screen: list[dict[str, Any]]
    journal: JournalLedger
    terminal: dict[str, Any]
    backend: BackendLedger


def _rows(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, Any]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def read_journal(path: Path) -> JournalLedger:
    sessions = _rows(path, "SELECT session_id, closed_at FROM sessions ORDER BY created_at")
    reports: dict[str, dict[str, Any]] = {}
    undelivered = 0
    for row in _rows(path, "SELECT kind, payload_json, delivered_at FROM outbox"):
        undelivered += row["delivered_at"] is None
        if row["kind"] == "session":
            payload = json.loads(row["payload_json"])
            reports[payload["session_id"]] = payload
    return JournalLedger(
        open_sessions=[s["session_id"] for s in sessions if s["closed_at"] is None],
        reports=reports,
        undelivered=undelivered,
        sessions=[s["session_id"] for s in sessions],
    )


def read_backend(db: Path, session_ids: list[str], link_ids: list[str]) -> BackendLedger:
    """Only this run's rows: the drill shares one backend between runs."""
    ledger = BackendLedger()
    for sid in session_ids:
        rows = _rows(db, "SELECT * FROM sessions WHERE session_id = ?", (sid,))
        ledger.sessions[sid] = rows
        for row in rows:
            ledger.payments[row["pk"]] = _rows(
                db, "SELECT * FROM payments WHERE session_pk = ?", (row["pk"],)
            )
    for link in link_ids:
        for row in _rows(db, "SELECT * FROM payment_links WHERE id = ?", (link,)):
            captured = _rows(
                db, "SELECT captured_minor, status FROM payments WHERE link_id = ?", (link,)
            )
            ledger.links[link] = {**row, "payments": captured}
    return ledger


def link_ids_of(screen_rows: list[dict[str, Any]], journal: JournalLedger) -> list[str]:
    ids = {r.get("link_id") for r in screen_rows if r["kind"] == "link"}
    for report in journal.reports.values():
        auth = report.get("authorisation") or {}
        ids.add(auth.get("link_id"))
    return sorted(i for i in ids if i)


def read_all(workdir: Path, terminal_ledger: dict[str, Any], backend_db: Path) -> Ledgers:
    journal = read_journal(workdir / "kiosk" / "state" / "journal.db")
    promises = screen.read(workdir / "screen.jsonl")
    backend = read_backend(backend_db, journal.sessions, link_ids_of(promises, journal))
    return Ledgers(promises, journal, terminal_ledger, backend)
