"""Signals (SIGTERM from systemd, Ctrl+C) handled while Qt's loop waits, without a timer.

Python runs a signal's handler only between two bytecodes of the main thread, and Qt's loop
waits in C++. The C-level handler writes the signal's number to a socket (set_wakeup_fd);
a notifier on the other end wakes Qt's loop, and the Python it runs lets the handler run. An
idle station so stays asleep until something happens, instead of waking twice a second.
"""

from __future__ import annotations

import signal
import socket

from ui.qt import QObject, QSocketNotifier


class SignalWakeup(QObject):
    """While it lives, a signal wakes Qt's loop; `close` gives the wakeup fd back."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._previous = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)

    def _drain(self) -> None:
        # Running this Python is what lets the pending handlers run; the bytes only woke us.
        try:
            while self._read.recv(512):
                pass
        except BlockingIOError:
            return

    def close(self) -> None:
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous)
        self._read.close()
        self._write.close()
