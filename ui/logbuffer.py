"""The last few hundred log lines in memory, for the service menu's log view."""

from __future__ import annotations

import collections
import logging
import threading


class RingHandler(logging.Handler):
    def __init__(self, capacity: int = 500) -> None:
        super().__init__(level=logging.INFO)
        self._lines: collections.deque[str] = collections.deque(maxlen=capacity)
        self._lock_lines = threading.Lock()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a broken log call must not take the screen down
            line = f"{record.levelname} {record.name}: (unformattable message)"
        with self._lock_lines:
            self._lines.append(line)

    def lines(self) -> list[str]:
        with self._lock_lines:
            return list(self._lines)


RING = RingHandler()
