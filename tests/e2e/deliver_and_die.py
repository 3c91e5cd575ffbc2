"""An outbox sender process for the kill drill: `deliver_and_die.py JOURNAL URL TOKEN N`.

Delivers the journal's outbox to the backend at URL; with N > 0 it SIGKILLs itself right after
the N-th report was answered by the backend and before the answer reached the journal.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drivers.backend_client import HttpBackend
from kiosk.devices import BackendAck
from kiosk.journal.store import Journal
from kiosk.outbox.sender import OutboxSender
from kiosk.runtime.clock import SystemClock


class DiesAfter:
    def __init__(self, backend: HttpBackend, n: int) -> None:
        self.backend = backend
        self.n = n
        self.count = 0

    def report(self, kind: str, key: str, payload: Any) -> BackendAck:
        ack = self.backend.report(kind, key, payload)
        self.count += 1
        if self.count == self.n:
            os.kill(os.getpid(), signal.SIGKILL)
        return ack


def main() -> int:
    journal_path, url, token, n = sys.argv[1:5]
    journal = Journal.open(journal_path)
    backend = HttpBackend(url, token, time_zone="Europe/Berlin")
    sender = OutboxSender(journal, DiesAfter(backend, int(n)), SystemClock())  # type: ignore[arg-type]
    sender.run_once()
    print(json.dumps({"delivered": sender.delivered, "failures": sender.failures}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
