"""The one bridge between the runtime's threads and Qt: snapshots in, intents out.

The runtime calls `_on_snapshot` from its own thread. The bridge keeps only the newest
snapshot and wakes the GUI thread once (a queued signal); if the GUI is busy while several
snapshots arrive, it renders the latest and skips the stale ones instead of queueing them.
Intents go back through the runtime's thread-safe, non-blocking `send`.
"""

from __future__ import annotations

import logging
import threading

from kiosk.snapshot import Intent, StationSnapshot
from ui.ports import StationPort
from ui.qt import QObject, Qt, Signal

log = logging.getLogger(__name__)


class SnapshotBridge(QObject):
    snapshot = Signal(object)  # StationSnapshot, always emitted on the GUI thread
    _wake = Signal()

    def __init__(self, station: StationPort) -> None:
        super().__init__()
        self._station = station
        self._lock = threading.Lock()
        self._latest: StationSnapshot | None = None
        self._pending = False
        self._closed = False
        self.delivered = 0  # snapshots handed to the GUI (the rest were superseded)
        self._wake.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def attach(self) -> None:
        """Subscribe; separate from __init__ so the window can connect first."""
        self._station.subscribe(self._on_snapshot)

    def _on_snapshot(self, snapshot: StationSnapshot) -> None:
        with self._lock:
            if self._closed:
                return
            self._latest = snapshot
            wake = not self._pending
            self._pending = True
        if wake:
            self._wake.emit()

    def _deliver(self) -> None:
        with self._lock:
            snapshot, self._latest = self._latest, None
            self._pending = False
        if snapshot is not None and not self._closed:
            self.delivered += 1
            self.snapshot.emit(snapshot)

    def send(self, intent: Intent) -> None:
        try:
            self._station.send(intent)
        except Exception:  # a refused intent must not break the screen
            log.exception("the runtime refused intent %s", intent)

    def close(self) -> None:
        with self._lock:
            self._closed = True
