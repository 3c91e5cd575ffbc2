"""The simulated bank side: open pre-auths, bookings, reversals and the day's batch.

Kept in a JSON file, written atomically after every change, so a restarted simulator still
knows which pre-auths are open (a real terminal keeps them across its reboots).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Entry:
    receipt_no: int
    trace_no: int
    amount_minor: int
    card_type: int
    card_name: str
    masked_pan: str
    auth_code: str
    reference: str = ""
    original_receipt_no: int | None = None


@dataclass
class LedgerState:
    next_receipt: int = 1
    next_trace: int = 1
    open: dict[str, Entry] = field(default_factory=dict)  # receipt no → pre-auth
    booked: list[Entry] = field(default_factory=list)  # amount = what was charged
    reversed: list[Entry] = field(default_factory=list)  # amount = what was released in full
    batch: list[Entry] = field(default_factory=list)  # bookings since the last end-of-day
    refunds: list[Entry] = field(default_factory=list)  # 06 31: money back to a card
    refund_batch: list[Entry] = field(default_factory=list)  # refunds since the last end-of-day
    end_of_days: list[dict[str, Any]] = field(default_factory=list)


def _entry(raw: dict[str, Any]) -> Entry:
    return Entry(**raw)


class Ledger:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.state = LedgerState()
        if path is not None and path.exists():
            self.state = self._load(path)

    @staticmethod
    def _load(path: Path) -> LedgerState:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return LedgerState(
                next_receipt=int(raw["next_receipt"]),
                next_trace=int(raw["next_trace"]),
                open={k: _entry(v) for k, v in raw["open"].items()},
                booked=[_entry(v) for v in raw["booked"]],
                reversed=[_entry(v) for v in raw["reversed"]],
                batch=[_entry(v) for v in raw["batch"]],
                refunds=[_entry(v) for v in raw.get("refunds", [])],  # absent before 06 31
                refund_batch=[_entry(v) for v in raw.get("refund_batch", [])],
                end_of_days=list(raw["end_of_days"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"simulator state {path}: unreadable ({exc})") from exc

    def save(self) -> None:
        if self.path is None:
            return
        data = json.dumps(asdict(self.state), indent=1, sort_keys=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".zvt-sim-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)

    def allocate(self) -> tuple[int, int]:
        """A new (receipt number, trace number); receipt numbers wrap inside 4 BCD digits."""
        with self.lock:
            receipt, trace = self.state.next_receipt, self.state.next_trace
            self.state.next_receipt = receipt % 9999 + 1
            self.state.next_trace = trace % 999999 + 1
            self.save()
            return receipt, trace

    def open_receipts(self) -> list[int]:
        with self.lock:
            return sorted(int(k) for k in self.state.open)

    def get_open(self, receipt_no: int) -> Entry | None:
        with self.lock:
            return self.state.open.get(str(receipt_no))

    def add_open(self, entry: Entry) -> None:
        with self.lock:
            self.state.open[str(entry.receipt_no)] = entry
            self.save()

    def close(self, original: int, result: Entry) -> None:
        """Settle an open pre-auth: amount 0 is a full reversal, anything else a booking."""
        with self.lock:
            self.state.open.pop(str(original), None)
            if result.amount_minor == 0:
                self.state.reversed.append(result)
            else:
                self.state.booked.append(result)
                self.state.batch.append(result)
            self.save()

    def add_refund(self, entry: Entry) -> None:
        """A refund is money back to a card: kept in its own list, and in the day's batch of
        refunds, which the end-of-day subtracts from the bookings."""
        with self.lock:
            self.state.refunds.append(entry)
            self.state.refund_batch.append(entry)
            self.save()

    def batch_net(self) -> dict[int, tuple[int, int]]:
        """Per card type: (transactions, bookings less refunds) of the open batch."""
        with self.lock:
            out: dict[int, tuple[int, int]] = {}
            for entry, sign in [(e, 1) for e in self.state.batch] + [
                (e, -1) for e in self.state.refund_batch
            ]:
                count, total = out.get(entry.card_type, (0, 0))
                out[entry.card_type] = (count + 1, total + sign * entry.amount_minor)
            return out

    def end_of_day(self) -> tuple[dict[int, tuple[int, int]], dict[str, Any]]:
        """Close the batch: per card type (transactions, net amount), and the record kept."""
        with self.lock:
            per_type = self.batch_net()
            receipts = [e.receipt_no for e in self.state.batch + self.state.refund_batch]
            record = {
                "count": sum(n for n, _ in per_type.values()),
                "total_minor": sum(t for _, t in per_type.values()),
                "refunds": len(self.state.refund_batch),
                "receipt_from": min(receipts, default=0),
                "receipt_to": max(receipts, default=0),
            }
            self.state.batch.clear()
            self.state.refund_batch.clear()
            self.state.end_of_days.append(record)
            self.save()
            return per_type, record

    def snapshot(self) -> dict[str, Any]:
        """The ledger as plain data (what tests and the control channel read)."""
        with self.lock:
            return json.loads(json.dumps(asdict(self.state)))  # type: ignore[no-any-return]
