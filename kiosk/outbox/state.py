"""The outbox as the service menu and `evkiosk status` show it, derived from the journal alone
(so a read-only look at the journal file gives the same answer as the running kiosk)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiosk.journal.store import Journal


@dataclass(frozen=True, slots=True)
class OutboxState:
    queued: int  # waiting to be delivered (parked ones not counted)
    parked: int  # refused by the backend (4xx): kept, shown, not retried on their own
    oldest_queued_at: datetime | None
    last_error: str | None  # of the most recent failed attempt, if the queue is not empty
    last_attempt_at: datetime | None
    delivered: int

    def oldest_age_s(self, now: datetime) -> float | None:
        if self.oldest_queued_at is None:
            return None
        return max(0.0, (now - self.oldest_queued_at).total_seconds())


def outbox_state(journal: Journal) -> OutboxState:
    (queued, parked, delivered, oldest, last_at), *_ = journal.query(
        "SELECT "
        "  SUM(delivered_at IS NULL AND parked_at IS NULL), "
        "  SUM(delivered_at IS NULL AND parked_at IS NOT NULL), "
        "  SUM(delivered_at IS NOT NULL), "
        "  MIN(CASE WHEN delivered_at IS NULL AND parked_at IS NULL THEN created_at END), "
        "  MAX(last_attempt_at) "
        "FROM outbox"
    )
    error_rows = journal.query(
        "SELECT last_error FROM outbox WHERE delivered_at IS NULL AND last_error IS NOT NULL "
        "ORDER BY last_attempt_at DESC, id DESC LIMIT 1"
    )
    return OutboxState(
        queued=int(queued or 0),
        parked=int(parked or 0),
        oldest_queued_at=None if oldest is None else datetime.fromisoformat(oldest),
        last_error=error_rows[0][0] if error_rows else None,
        last_attempt_at=None if last_at is None else datetime.fromisoformat(last_at),
        delivered=int(delivered or 0),
    )
