"""Where a drill may kill the kiosk: after a journal commit, or at a ZVT message boundary of a
money command (before/after sending it, after each 04 0F received, after each 80 00 00 sent).

A run without a kill records every point it passed (`Points`); a run with one dies there with
SIGKILL, after the car and the clock were written down (a real car and meter do not forget).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.zvt import commands
from drivers.zvt.codec.apdu import Apdu

MONEY = {(0x06, 0x22), (0x06, 0x23), (0x06, 0x24), (0x06, 0x25), (0x06, 0x20)}
ENQUIRY = commands.open_preauth_enquiry()  # 06 23 with receipt FFFF: a question, not money
ACK = (0x80, 0x00)
ENDS = {"06 0F", "06 1E"}


def is_money(apdu: Apdu) -> bool:
    return apdu.control in MONEY and apdu != ENQUIRY


@dataclass
class Points:
    commits: int = 0
    zvt: list[str] = field(default_factory=list)  # labels of the money boundaries, in order
    # commits made while a money result (04 0F) was received but not yet acknowledged
    unacked_commits: dict[int, str] = field(default_factory=dict)


class KillSwitch:
    """Counts the points as they pass; dies at `kill` = ("commit" | "zvt", n)."""

    def __init__(self, kill: tuple[str, int] | None, before_death: Callable[[], None]) -> None:
        self.kill = kill
        self.points = Points()
        self._before_death = before_death
        self._lock = threading.Lock()
        self._in_money = False
        self._last_received = ""
        self._command = ""  # the money command of the running exchange
        self._unacked = False  # a 04 0F of it arrived and has no 80 00 00 yet

    def _die(self) -> None:
        self._before_death()
        os.kill(os.getpid(), signal.SIGKILL)

    def after_commit(self) -> None:
        with self._lock:
            self.points.commits += 1
            if self._unacked:
                label = f"{self._command} result journaled, not acked"
                self.points.unacked_commits[self.points.commits] = label
            hit = self.kill == ("commit", self.points.commits)
        if hit:
            self._die()

    def _zvt_point(self, label: str) -> None:
        self.points.zvt.append(label)
        if self.kill == ("zvt", len(self.points.zvt)):
            self._die()

    def boundary(self, when: str, apdu: Apdu) -> None:
        with self._lock:
            if when == "received":
                self._last_received = apdu.command
                if self._in_money and apdu.control == (0x04, 0x0F):
                    self._unacked = True
                    self._zvt_point("got 04 0F")
                return
            if is_money(apdu):
                self._in_money, self._command = True, apdu.command
                self._zvt_point(f"{'before' if when == 'send' else 'after'} {apdu.command}")
                return
            if apdu.control == ACK:
                if self._in_money and when == "sent":
                    self._unacked = False
                    self._zvt_point(f"acked {self._last_received}")
                    if self._last_received in ENDS:
                        self._in_money = False
                return
            self._in_money = self._unacked = False  # any other command: the exchange is over

    def install(self, journal: object, terminal: object) -> None:
        journal.after_commit = self.after_commit  # type: ignore[attr-defined]
        terminal.message_hook = self.boundary  # type: ignore[attr-defined]
