"""T3/T4 with the spec's real values (5 s, 180 s) on an injected clock: minutes in milliseconds.

The link here replays what a terminal sent at given (fake) times; waiting on it advances the
fake clock instead of sleeping. Everything above the link is the real protocol layer.
"""

from __future__ import annotations

import collections

import pytest

from drivers.zvt.codec.apdu import Apdu
from drivers.zvt.link import Timeouts
from drivers.zvt.protocol import ExchangeInterrupted, Protocol

ACK = bytes.fromhex("800000")
WAITING_FOR_HOST = bytes.fromhex("04FF0104")
DONE = bytes.fromhex("060F00")


class ReplayedTerminal:
    """Delivers (at_second, apdu) pairs when the fake clock reaches them; records what was sent."""

    def __init__(self, script: list[tuple[float, bytes]]) -> None:
        self.now = 0.0
        self.pending = collections.deque(sorted(script, key=lambda item: item[0]))
        self.sent: list[bytes] = []

    def clock(self) -> float:
        return self.now

    def send(self, apdu: bytes) -> None:
        self.sent.append(apdu)

    def receive(self, timeout: float) -> bytes | None:
        if self.pending and self.pending[0][0] <= self.now + timeout:
            at, apdu = self.pending.popleft()
            self.now = max(self.now, at)
            return apdu
        self.now += timeout
        return None

    def close(self) -> None:
        pass


SPEC = Timeouts()  # T3 = 5 s, T4 = 180 s


def run(script: list[tuple[float, bytes]]) -> tuple[ReplayedTerminal, Protocol]:
    terminal = ReplayedTerminal(script)
    return terminal, Protocol(terminal, SPEC, terminal.clock)


def test_ten_minutes_of_host_wait_kept_alive_by_status_every_two_minutes() -> None:
    script = [(1.0, ACK)] + [(1.0 + 120 * n, WAITING_FOR_HOST) for n in range(1, 6)]
    script.append((1.0 + 120 * 5 + 170, DONE))
    terminal, protocol = run(script)
    done = protocol.transact(Apdu(0x06, 0x22))
    assert done.completion is not None and len(done.intermediate) == 5
    assert terminal.now == pytest.approx(771.0)
    assert terminal.sent.count(ACK) == 6  # each 04 FF and the completion acknowledged


def test_t4_runs_out_after_180_silent_seconds() -> None:
    terminal, protocol = run([(1.0, ACK), (100.0, WAITING_FOR_HOST), (281.5, DONE)])
    with pytest.raises(ExchangeInterrupted, match="T4: terminal silent for 180 s"):
        protocol.transact(Apdu(0x06, 0x22))
    assert terminal.now == pytest.approx(280.0, abs=0.1)


def test_t3_runs_out_after_5_seconds_without_80_00() -> None:
    terminal, protocol = run([(5.5, ACK)])
    with pytest.raises(ExchangeInterrupted, match="T3: no 80 00 within 5 s"):
        protocol.transact(Apdu(0x05, 0x01, bytes.fromhex("123456")))
    assert terminal.now == pytest.approx(5.0)


def test_status_timeout_byte_extends_t4_to_its_minutes() -> None:
    # 04 FF with timeout 05 (BCD minutes): the PT asks for 5 minutes of patience
    _terminal, protocol = run([(1.0, ACK), (2.0, bytes.fromhex("04FF020A05")), (290.0, DONE)])
    assert protocol.transact(Apdu(0x06, 0x22)).completion is not None
