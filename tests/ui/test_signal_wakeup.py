"""A signal wakes Qt's idle loop so that Python runs its handler (ui.signal_wakeup)."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

from PySide6.QtCore import QEventLoop, QTimer

from ui.signal_wakeup import SignalWakeup

# Only reached if nothing woke the loop for the signal: then the handler runs late, after it.
GUARD_MS = 30_000


def test_a_signal_runs_its_handler_while_the_loop_has_nothing_else_to_do(qapp: object) -> None:
    order: list[str] = []
    loop = QEventLoop()
    looping = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        order.append("handler")
        QTimer.singleShot(0, loop.quit)  # also if it ran before the loop did

    def guard() -> None:
        order.append("guard")
        loop.quit()

    def send() -> None:  # once the loop runs: the signal comes while it waits in C++
        looping.wait()
        os.kill(os.getpid(), signal.SIGUSR1)

    previous = signal.signal(signal.SIGUSR1, handler)
    wakeup = SignalWakeup()
    sender = threading.Thread(target=send)
    try:
        QTimer.singleShot(GUARD_MS, guard)
        QTimer.singleShot(0, looping.set)
        sender.start()
        loop.exec()
    finally:
        looping.set()
        sender.join()
        wakeup.close()
        signal.signal(signal.SIGUSR1, previous)
    assert order == ["handler"], order


def test_closing_gives_the_wakeup_fd_back(qapp: object) -> None:
    before = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before)
    wakeup = SignalWakeup()
    wakeup.close()
    assert signal.set_wakeup_fd(before) == before
