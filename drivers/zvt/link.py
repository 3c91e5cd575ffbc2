"""What the protocol layer needs from a transport, and the timers both transports share."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]  # monotonic seconds; injectable so tests can control timers


@dataclass(frozen=True, slots=True)
class Timeouts:
    """ZVT timers in seconds (PA00P016 §3.4, §5.2.5-6). Tests pass short values."""

    t1: float = 0.2  # between bytes inside a serial frame
    t2: float = 5.0  # serial frame sent → ACK/NAK received
    t3: float = 5.0  # command sent → 80 00 / 84 xx received
    t4: float = 180.0  # 80 00 received → Completion/Abort; restarted by 04 FF and 04 0F
    resends: int = 2  # serial: repeats after NAK or T2 (3 attempts in all)
    connect: float = 5.0  # TCP connect / serial open
    poll: float = 0.05  # how often a waiting loop looks at abort requests


class Link(Protocol):
    """One APDU in, one APDU out, over serial (framed, ACKed) or TCP (length framed)."""

    def send(self, apdu: bytes) -> None:
        """Deliver one APDU; raises LinkError if the peer does not take it."""
        ...

    def receive(self, timeout: float) -> bytes | None:
        """The next APDU, or None if none arrived within ``timeout``. Raises LinkError."""
        ...

    def close(self) -> None: ...


LinkFactory = Callable[[], Link]


def monotonic() -> float:
    return time.monotonic()
