"""Ledger (a): what the screen promised, written down as the kiosk shows it.

Every promise is one JSON line, flushed to the kernel at once, so it survives a SIGKILL that
follows: the price in force on the idle tile, the price lines on the price screen, the amount
on the Stop confirmation, and each receipt (total and every line the snapshot carries).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from kiosk.snapshot import SessionView, StationSnapshot
from kiosk.tariff import wording

_WORDS = wording.load_words("en")


def plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (Decimal, datetime)):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


class ScreenLog:
    def __init__(self, path: Path) -> None:
        self._out = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self._receipts: set[str] = set()

    def write(self, kind: str, **fields: Any) -> None:
        with self._lock:
            self._out.write(json.dumps({"kind": kind, **plain(fields)}) + "\n")
            self._out.flush()

    def tile(self, snap: StationSnapshot, at: datetime) -> None:
        tile = snap.connectors[0]
        # The tile's text as the screen words it (English), from the price in force it carries.
        shown = "" if tile.price is None else wording.now_text(tile.price, _WORDS)
        self.write("tile", connector=tile.connector_id, summary=shown, at=at)

    def price(self, view: SessionView, at: datetime) -> None:
        self.write("price", session=view.session_id, lines=view.price_lines, at=at)

    def stop_confirm(self, view: SessionView, at: datetime) -> None:
        cost = None if view.live is None else view.live.cost.minor
        self.write("stop_confirm", session=view.session_id, minor=cost, at=at)

    def on_snapshot(self, snap: StationSnapshot) -> None:
        for view in (snap.focus, *snap.background):
            if view is None or view.receipt is None or view.session_id in self._receipts:
                continue
            self._receipts.add(view.session_id)
            self.write("receipt", session=view.session_id, receipt=view.receipt)

    def close(self) -> None:
        self._out.close()


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # a line cut by the kill
    return rows
