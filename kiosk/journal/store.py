"""The kiosk's journal: one SQLite file, WAL, synchronous=FULL.

What the machine did is written after each step, in one transaction: the changed sessions,
their transitions, new authorisations, the meter readings that were priced, and the commands
(the intents) that are about to go to devices. A terminal's answer is written by
`record_card_result` before the driver acknowledges it. A session's close and its outbox
record share one transaction.

The file is never deleted, truncated or recreated here: a journal that cannot be read is
reported with what to do, and left as it is.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.devices import AckSink, CardResult, MeterReading, PaymentOutcome, ResultSink
from kiosk.journal.codec import dumps, loads
from kiosk.journal.csms_queue import CsmsQueueJournal
from kiosk.journal.csms_tariffs import CsmsTariffJournal
from kiosk.journal.ocmf import close_ocmf_records, store_record
from kiosk.journal.outbox import OutboxJournal
from kiosk.journal.report import session_report
from kiosk.journal.schema import MIGRATIONS, SCHEMA_VERSION
from kiosk.session.commands import CloseSession, Command
from kiosk.session.events import Event
from kiosk.session.model import Session, Station, mask_pan


class JournalError(Exception):
    """The journal cannot be used. The message names the file, the cause and what to do."""


class JournalFull(JournalError):
    """The disk (or the journal's size limit) is full; nothing of the failed write was kept."""


@dataclass(frozen=True, slots=True)
class StoredCardResult:
    id: int
    session_id: str | None
    kind: str
    result: CardResult
    acknowledged: bool = False  # the driver sent the terminal its acknowledgement


@dataclass(frozen=True, slots=True)
class StoredReading:
    reading: MeterReading
    cost_minor: int | None
    charging: bool = True  # False: the vehicle was connected and not drawing (parking time)


# The stored fields of a CardResult (as card_results names them), after the outcome.
_RESULT_COLUMNS = tuple(
    f.name for f in fields(CardResult) if f.name not in ("outcome", "receipt_text")
)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Journal(OutboxJournal, CsmsQueueJournal, CsmsTariffJournal):
    """Thread-safe: the machine's thread and the card terminal's thread both write here."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.RLock()
        self.commits = 0
        # Called after every commit; a crash drill uses it to kill the process at that point.
        self.after_commit: Callable[[], None] | None = None

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path | str) -> Journal:
        path = Path(path)
        if not path.parent.is_dir():
            raise JournalError(f"journal {path}: directory {path.parent} does not exist")
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise JournalError(f"journal {path}: cannot open ({exc})") from None
        journal = cls(path, conn)
        try:
            conn.execute("PRAGMA busy_timeout = 5000")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalError(f"journal {path}: WAL mode refused (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise JournalError(
                    f"journal {path}: damaged ({check}). It was left untouched: copy it for the "
                    "operator, then move it aside to start with a new journal."
                )
            journal._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise JournalError(_unreadable(path, exc)) from None
        except JournalError:
            conn.close()
            raise
        return journal

    def _migrate(self) -> None:
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"journal {self.path}: schema version {version} is newer than this evkiosk "
                f"understands ({SCHEMA_VERSION}); run the newer version or restore a backup"
            )
        for number in range(version, SCHEMA_VERSION):
            # One script, one transaction: the schema change and its version number together.
            script = f"BEGIN IMMEDIATE; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1};"
            try:
                self._conn.executescript(script + " COMMIT;")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                text = str(exc).lower()
                if "full" in text:
                    raise JournalFull(
                        f"journal {self.path}: disk full ({exc}); this step was not written, "
                        "everything before it is intact. Free space on the kiosk's disk."
                    ) from None
                raise JournalError(_unreadable(self.path, exc)) from None
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self.commits += 1
            if self.after_commit is not None:
                self.after_commit()

    # ------------------------------------------------------------------ writes

    def record_step(
        self, event: Event, before: Station, after: Station, commands: Sequence[Command]
    ) -> list[int]:
        """Write what one machine step changed. Returns the ids of the journaled commands."""
        old = {s.session_id: s for s in before.sessions}
        new = {s.session_id: s for s in after.sessions}
        for command in commands:
            if isinstance(command, CloseSession):
                new.setdefault(command.session.session_id, command.session)
        changed = [s for sid, s in new.items() if old.get(sid) != s]
        gone = [sid for sid in old if sid not in new]
        if not changed and not gone and not commands:
            return []
        at = event.at.isoformat()
        name = type(event).__name__
        ids: list[int] = []
        with self._tx() as conn:
            charging = getattr(event, "charging", None)  # MeterUpdate: the controller's word
            for s in changed:
                self._write_session(conn, s, old.get(s.session_id), name, at, charging=charging)
            for sid in gone:
                conn.execute(
                    "UPDATE sessions SET phase = 'closed', updated_at = ? WHERE session_id = ?",
                    (at, sid),
                )
            kind = {"PreauthDone": "preauth", "SettleDone": "settle"}.get(name)
            if kind is not None:
                conn.execute(
                    "UPDATE card_results SET consumed = 1 "
                    "WHERE session_id = ? AND kind = ? AND consumed = 0",
                    (getattr(event, "session_id", None), kind),
                )
            for command in commands:
                ids.append(self._write_command(conn, command, at))
            self.queue_csms_calls(conn, event, before, after, commands)
        return ids

    def _write_session(
        self,
        conn: sqlite3.Connection,
        s: Session,
        old: Session | None,
        event: str,
        at: str,
        *,
        charging: bool | None = None,
    ) -> None:
        conn.execute(
            "INSERT INTO sessions (session_id, connector_id, created_at, phase, tariff_json, "
            "hold_minor, currency, state_json, updated_at) VALUES (?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(session_id) DO UPDATE SET phase = excluded.phase, "
            "state_json = excluded.state_json, updated_at = excluded.updated_at",
            (
                s.session_id,
                s.connector_id,
                s.created_at.isoformat(),
                s.phase.value,
                s.offer.tariff_json,
                s.offer.hold_minor,
                s.offer.currency,
                dumps(s),
                at,
            ),
        )
        if old is None or old.phase is not s.phase:
            conn.execute(
                "INSERT INTO transitions (session_id, at, from_phase, to_phase, event) "
                "VALUES (?,?,?,?,?)",
                (s.session_id, at, None if old is None else old.phase.value, s.phase.value, event),
            )
        auth = s.auth
        if auth is not None and (old is None or old.auth is None):
            conn.execute(
                "INSERT OR IGNORE INTO authorisations (session_id, method, amount_minor, "
                "currency, receipt_no, trace_no, terminal_id, auth_code, masked_pan, card_brand, "
                "link_id, at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    s.session_id,
                    auth.method.value,
                    auth.amount_minor,
                    auth.currency,
                    auth.receipt_no,
                    auth.trace_no,
                    auth.terminal_id,
                    auth.auth_code,
                    mask_pan(auth.masked_pan),
                    auth.card_brand,
                    auth.link_id,
                    at,
                ),
            )
        last = s.last_reading
        if last is not None and (old is None or old.last_reading != last):
            conn.execute(
                "INSERT INTO readings (session_id, measured_at, energy_wh, power_w, cost_minor, "
                "charging) VALUES (?,?,?,?,?,?)",
                (
                    s.session_id,
                    last.measured_at.isoformat(),
                    last.energy_import_wh,
                    last.power_w,
                    s.cost_minor,
                    None if charging is None else int(charging),
                ),
            )

    def _write_command(self, conn: sqlite3.Connection, command: Command, at: str) -> int:
        if isinstance(command, CloseSession):
            s = command.session
            sid: str | None = s.session_id
            conn.execute("UPDATE sessions SET closed_at = ? WHERE session_id = ?", (at, sid))
            if command.report:
                conn.execute(
                    "INSERT OR IGNORE INTO outbox (kind, idempotency_key, payload_json, "
                    "created_at) VALUES ('session', ?, ?, ?)",
                    (
                        f"session:{sid}",
                        dumps(
                            session_report(
                                s,
                                _report_readings(conn, s.session_id),
                                close_ocmf_records(conn, s.session_id, at),
                            )
                        ),
                        at,
                    ),
                )
            payload = dumps({"session_id": sid, "report": command.report})
        else:
            sid = getattr(command, "session_id", None)
            payload = dumps(command)
        cursor = conn.execute(
            "INSERT INTO commands (session_id, kind, payload_json, at) VALUES (?,?,?,?)",
            (sid, type(command).__name__, payload, at),
        )
        return int(cursor.lastrowid or 0)

    def store_ocmf_record(self, **record: Any) -> bool:
        """A signed meter record, before the meter may drop it (see kiosk.journal.ocmf)."""
        with self._tx() as conn:
            return store_record(conn, **record)

    def ocmf_record_of(self, session_id: str) -> tuple[str, str | None] | None:
        """The signed record (text, public key) journaled for a session, e.g. at start-up."""
        rows = self._read(
            "SELECT record, public_key FROM ocmf_records WHERE session_id = ? "
            "AND record IS NOT NULL ORDER BY id LIMIT 1",
            (session_id,),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def record_card_result(self, session_id: str | None, kind: str, result: CardResult) -> int:
        """Persist a terminal's answer. Called by the driver *before* it acknowledges it."""
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO card_results (session_id, kind, outcome, amount_minor, currency, "
                "raw_result_code, receipt_no, trace_no, terminal_id, auth_code, masked_pan, "
                "card_brand, card_date, card_time, reference, at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    session_id,
                    kind,
                    result.outcome.value,
                    result.amount_minor,
                    result.currency,
                    result.raw_result_code,
                    result.receipt_no,
                    result.trace_no,
                    result.terminal_id,
                    result.auth_code,
                    mask_pan(result.masked_pan),
                    result.card_brand,
                    result.card_date,
                    result.card_time,
                    result.reference,
                    _now(),
                ),
            )
            return int(cursor.lastrowid or 0)

    def result_sink(self, session_id: str | None, kind: str) -> ResultSink:
        """What a terminal driver hands each result to before acknowledging it; the callable it
        returns marks the result acknowledged once the driver has sent that."""

        def persist(result: CardResult) -> AckSink:
            result_id = self.record_card_result(session_id, kind, result)
            return lambda: self.mark_card_result_acknowledged(result_id)

        return persist

    def mark_card_result_acknowledged(self, result_id: int) -> None:
        """The driver sent the terminal its acknowledgement of this result (written after)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE card_results SET acknowledged_at = ? WHERE id = ?", (_now(), result_id)
            )

    def mark_command_done(self, command_id: int, result: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE commands SET done_at = ?, result = ? WHERE id = ?",
                (_now(), result, command_id),
            )

    def record_intent(self, session_id: str | None, kind: str, payload_json: str) -> int:
        """A money command's intent (e.g. "RefundCard"), written before it is sent."""
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO commands (session_id, kind, payload_json, at) VALUES (?, ?, ?, ?)",
                (session_id, kind, payload_json, _now()),
            )
            return int(cursor.lastrowid or 0)

    def record_orphan_reversal(self, receipt_no: int, amount_minor: int | None) -> int:
        """The intent to reverse a hold no session owns, written before it is sent."""
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO commands (session_id, kind, payload_json, at) VALUES (NULL, ?, ?, ?)",
                (
                    "ReverseOrphanHold",
                    dumps({"receipt_no": receipt_no, "amount_minor": amount_minor}),
                    _now(),
                ),
            )
            return int(cursor.lastrowid or 0)

    def mark_card_result_consumed(self, result_id: int, *, dropped: bool = False) -> None:
        """Seen by recovery; `dropped`: never acknowledged and not kept by the terminal, so not
        used (it is no booking, whatever it says)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE card_results SET consumed = 1, dropped_at = ? WHERE id = ?",
                (_now() if dropped else None, result_id),
            )

    # ------------------------------------------------------------------ reads

    def open_sessions(self) -> list[Session]:
        """Every session whose money is not final yet, or whose close was never shown."""
        rows = self._read(
            "SELECT session_id, state_json FROM sessions WHERE phase != 'closed' "
            "AND (closed_at IS NULL OR phase NOT IN ('receipt', 'failed')) ORDER BY created_at"
        )
        sessions = []
        for sid, state in rows:
            try:
                sessions.append(loads(Session, state))
            except ValueError as exc:
                raise JournalError(
                    f"journal {self.path}: session {sid} cannot be restored ({exc}); the row "
                    "was left as it is for the operator"
                ) from None
        return sessions

    def pending_card_results(self) -> list[StoredCardResult]:
        rows = self._read(
            "SELECT id, session_id, kind, outcome, amount_minor, currency, raw_result_code, "
            "receipt_no, trace_no, terminal_id, auth_code, masked_pan, card_brand, card_date, "
            "card_time, reference, acknowledged_at IS NOT NULL FROM card_results "
            "WHERE consumed = 0 ORDER BY id"
        )
        return [
            StoredCardResult(
                id=row[0],
                session_id=row[1],
                kind=row[2],
                result=CardResult(
                    PaymentOutcome(row[3]), **dict(zip(_RESULT_COLUMNS, row[4:16], strict=True))
                ),
                acknowledged=bool(row[16]),
            )
            for row in rows
        ]

    def readings(self, session_id: str) -> list[StoredReading]:
        rows = self._read(
            "SELECT measured_at, energy_wh, power_w, cost_minor, charging FROM readings "
            "WHERE session_id = ? ORDER BY id",
            (session_id,),
        )
        return [
            StoredReading(
                MeterReading(datetime.fromisoformat(at), energy, power_w=power),
                cost,
                charging is None or bool(charging),
            )
            for at, energy, power, cost, charging in rows
        ]

    def held_receipts(self) -> set[int]:
        """Receipt numbers of card holds that belong to a session: one not closed yet, or one
        closed as booking money since the terminal's last end-of-day (a hold of a booked
        session that is still open was not booked: reversing it would lose the booking)."""
        # An approval the machine has not seen yet belongs to its session all the same.
        rows = self._read(
            "SELECT a.receipt_no FROM authorisations a JOIN sessions s USING (session_id) "
            "WHERE a.receipt_no IS NOT NULL AND (s.closed_at IS NULL OR ("
            "json_extract(s.state_json, '$.settlement.final_minor') > 0 AND s.closed_at > "
            "COALESCE((SELECT MAX(at) FROM end_of_day WHERE outcome = 'approved'), ''))) "
            "UNION SELECT receipt_no FROM card_results WHERE kind = 'preauth' "
            "AND consumed = 0 AND outcome = 'approved' AND receipt_no IS NOT NULL"
        )
        return {int(r[0]) for r in rows}

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Read-only access for status tools and tests."""
        return self._read(sql, params)

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._conn.execute(sql, tuple(params)).fetchall())
            except sqlite3.Error as exc:
                raise JournalError(_unreadable(self.path, exc)) from None


def _report_readings(conn: sqlite3.Connection, session_id: str) -> list[list[object]]:
    """The session's readings as the report carries them, so the backend can rebuild the
    charging periods the kiosk priced: [measured_at, energy Wh, power W, charging]."""
    rows = conn.execute(
        "SELECT measured_at, energy_wh, power_w, charging FROM readings WHERE session_id = ? "
        "ORDER BY id",
        (session_id,),
    ).fetchall()
    return [[at, wh, power, charging is None or bool(charging)] for at, wh, power, charging in rows]


def _unreadable(path: Path, exc: BaseException) -> str:
    return (
        f"journal {path}: cannot be read or written ({exc}). The file was left as it is: keep "
        "a copy for the operator; move it aside to start the kiosk with a new journal."
    )
