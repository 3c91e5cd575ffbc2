"""Reconciliation against what payment providers settled and paid out (filled in by the
settlement import)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from backend.config import Settings
from backend.db import Database

if TYPE_CHECKING:
    from backend.books import BookDay


SETTLEMENT_CLASSES: dict[str, str] = {
    "captured_not_settled": "captured but never settled",
    "settled_not_captured": "settled but never captured",
    "settled_amount_differs": "settled amount differs from the capture",
    "fee_differs": "fee differs from the agreed fee",
    "payout_total_mismatch": "payout total differs from its transactions",
    "dispute": "chargeback or dispute",
    "refund_without_session": "refund without a session",
}


def add_settlement(
    db: Database,
    settings: Settings,
    *,
    start: datetime,
    end: datetime,
    station: str | None,
    day_of: Callable[[tuple[str, date, str]], BookDay],
) -> None:
    return None
