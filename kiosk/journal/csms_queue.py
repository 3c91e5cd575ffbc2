"""The CSMS link's durable queue (OCPP): a mixin of `Journal`, sharing its connection and lock.

`queue_csms_calls` runs inside the transaction that records a machine step, so a transaction
event is never lost nor written without its step. The link sends rows in id order and marks
each sent only after the CSMS answered; a TransactionEvent's seqNo is given here, per
transaction, continuous from 0.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kiosk.journal.csms_feed import CsmsCall, CsmsFeed, wire_json
from kiosk.session.commands import Command
from kiosk.session.events import Event
from kiosk.session.model import Station


@dataclass(frozen=True, slots=True)
class QueuedCsmsCall:
    id: int
    action: str
    kind: str
    transaction_id: str | None
    seq_no: int | None
    payload_json: str  # complete, seqNo included: sent as it is
    attempts: int

    @property
    def message_id(self) -> str:
        """The same for every attempt: a CSMS can tell a resend from a new message."""
        return f"evk-q{self.id}"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class CsmsQueueJournal:
    # Set when the station has a CSMS link: every step then queues what the CSMS must hear.
    csms_feed: CsmsFeed | None = None
    # Whether the link is up (the CSMS accepted the boot): events of a step taken while it is
    # not are marked `offline`, as OCPP asks.
    csms_online: Callable[[], bool] = staticmethod(lambda: True)

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def queue_csms_calls(
        self,
        conn: sqlite3.Connection,
        event: Event,
        before: Station,
        after: Station,
        commands: Sequence[Command],
    ) -> None:
        """Inside the step's transaction (called by record_step)."""
        feed = self.csms_feed
        if feed is None:
            return

        def last_meter_at(transaction_id: str) -> datetime | None:
            row = conn.execute(
                "SELECT MAX(created_at) FROM ocpp_queue WHERE transaction_id = ? "
                "AND kind IN ('started', 'periodic')",
                (transaction_id,),
            ).fetchone()
            return None if row is None or row[0] is None else datetime.fromisoformat(row[0])

        offline = not self.csms_online()
        for call in feed.calls(event, before, after, commands, last_meter_at):
            _insert(conn, call, event.at, offline=offline)

    def csms_pending(self, limit: int = 50) -> list[QueuedCsmsCall]:
        rows = self._read(
            "SELECT id, action, kind, transaction_id, seq_no, payload_json, attempts "
            "FROM ocpp_queue WHERE sent_at IS NULL ORDER BY id LIMIT ?",
            (limit,),
        )
        return [QueuedCsmsCall(*row) for row in rows]

    def csms_sent(self, call_id: int, answer: object) -> None:
        """The CSMS answered (a result, or an error it will answer the same way again)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE ocpp_queue SET sent_at = ?, answer_json = ?, attempts = attempts + 1 "
                "WHERE id = ?",
                (_now(), json.dumps(answer, default=str), call_id),
            )

    def csms_failed(self, call_id: int, error: str) -> None:
        """Not answered (link down, timeout): sent again, as it is, after the reconnect."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE ocpp_queue SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error[:500], call_id),
            )

    def csms_link_state(self, connected: bool, version: str | None, error: str | None) -> None:
        """The link's state as it last changed (for `evkiosk status`)."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO ocpp_link (id, connected, version, last_error, changed_at) "
                "VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "connected = excluded.connected, version = excluded.version, "
                "last_error = excluded.last_error, changed_at = excluded.changed_at",
                (int(connected), version, None if error is None else error[:500], _now()),
            )

    def csms_note_boot_reason(self, reason: str) -> None:
        """The reason of the next BootNotification (OCPP BootReasonEnumType), e.g. RemoteReset
        just before the station restarts for the CSMS's Reset."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO ocpp_boot_reason (id, reason, noted_at) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, "
                "noted_at = excluded.noted_at",
                (reason, _now()),
            )

    def csms_boot_reason(self) -> str | None:
        rows = self._read("SELECT reason FROM ocpp_boot_reason WHERE id = 1")
        return str(rows[0][0]) if rows else None

    def csms_boot_accepted(self) -> None:
        """A boot was accepted: the next one is a power-up again, unless noted otherwise."""
        with self._tx() as conn:
            conn.execute("DELETE FROM ocpp_boot_reason")

    def csms_queued(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM ocpp_queue WHERE sent_at IS NULL")[0][0])

    def csms_variables(self) -> dict[tuple[str, str], str]:
        """Variables the CSMS set (SetVariables), by (component, variable)."""
        rows = self._read("SELECT component, variable, value FROM ocpp_variables")
        return {(c, v): value for c, v, value in rows}

    def csms_set_variable(self, component: str, variable: str, value: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO ocpp_variables (component, variable, value, set_at) VALUES (?,?,?,?) "
                "ON CONFLICT (component, variable) DO UPDATE SET value = excluded.value, "
                "set_at = excluded.set_at",
                (component, variable, value, _now()),
            )

    def csms_started(self, transaction_id: str) -> tuple[str, str | None] | None:
        """The Started row of a transaction: its payload and the CSMS's answer, if answered
        (OCPP 1.6: the answer to StartTransaction holds the transactionId the CSMS gave)."""
        rows = self._read(
            "SELECT payload_json, answer_json FROM ocpp_queue WHERE transaction_id = ? "
            "AND kind = 'started' ORDER BY id LIMIT 1",
            (transaction_id,),
        )
        return (str(rows[0][0]), rows[0][1]) if rows else None

    def csms_session_of_v16(self, transaction_id: int) -> str | None:
        """The session the CSMS knows by this OCPP 1.6 transactionId (RemoteStopTransaction)."""
        rows = self._read(
            "SELECT transaction_id FROM ocpp_queue WHERE kind = 'started' "
            "AND json_extract(answer_json, '$.transactionId') = ? ORDER BY id DESC LIMIT 1",
            (transaction_id,),
        )
        return str(rows[0][0]) if rows else None

    def csms_receipt_url(self, session_id: str) -> str | None:
        """C21: the receipt address the CSMS gave in its answer to NotifySettlement."""
        rows = self._read(
            "SELECT answer_json FROM ocpp_queue WHERE session_id = ? "
            "AND action = 'NotifySettlement' AND answer_json IS NOT NULL ORDER BY id DESC LIMIT 1",
            (session_id,),
        )
        if not rows:
            return None
        try:
            url = json.loads(rows[0][0]).get("receiptUrl")
        except (ValueError, AttributeError):
            return None
        return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def _insert(conn: sqlite3.Connection, call: CsmsCall, at: datetime, *, offline: bool) -> None:
    payload = dict(call.payload)
    seq_no = None
    if call.action == "TransactionEvent":
        if offline:
            payload["offline"] = True
        row = conn.execute(
            "SELECT COALESCE(MAX(seq_no) + 1, 0) FROM ocpp_queue WHERE transaction_id = ?",
            (call.transaction_id,),
        ).fetchone()
        seq_no = int(row[0])
        payload["seqNo"] = seq_no
    conn.execute(
        "INSERT INTO ocpp_queue (session_id, transaction_id, seq_no, action, kind, payload_json, "
        "created_at) VALUES (?,?,?,?,?,?,?)",
        (
            call.session_id,
            call.transaction_id,
            seq_no,
            call.action,
            call.kind,
            wire_json(payload),
            at.isoformat(),
        ),
    )
