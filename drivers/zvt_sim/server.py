"""Run the PT engine on a pty pair (real serial framing) or a TCP port, with faults on the line."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from drivers.zvt.link import Timeouts
from drivers.zvt.transport_serial import NAK, FdChannel, SerialLink, encode_frame
from drivers.zvt.transport_tcp import TcpLink
from drivers.zvt_sim.ledger import Ledger
from drivers.zvt_sim.pt import Dropped, PtEngine, PtState
from drivers.zvt_sim.script import GARBAGE_BYTES, Behaviour, Card, Delays, Fault

log = logging.getLogger("drivers.zvt_sim")


class _Closable(Protocol):
    def close(self) -> None: ...


class _FaultySerialLink(SerialLink):
    def __init__(self, channel: FdChannel, timeouts: Timeouts, state: PtState) -> None:
        super().__init__(channel, timeouts)
        self.state = state

    def _acknowledge(self, apdu: bytes) -> bool:
        if self.state.take_fault(Fault.NO_ACK):
            return False  # lost on the wire: no ACK, not processed
        if self.state.take_fault(Fault.NAK):
            self.channel.write(bytes([NAK]))
            return False
        if not self.state.take_fault(Fault.DROP_ACK):
            return super()._acknowledge(apdu)
        return True  # processed, but the ACK byte never reaches the kiosk

    def _frame_bytes(self, apdu: bytes, attempt: int) -> bytes:
        frame = encode_frame(apdu)
        if self.state.take_fault(Fault.BAD_CRC):
            frame = frame[:-2] + bytes([frame[-2] ^ 0xFF, frame[-1]])
        if self.state.take_fault(Fault.GARBAGE):
            frame = GARBAGE_BYTES + frame
        return frame


class _FaultyTcpLink(TcpLink):
    def __init__(self, sock: socket.socket, state: PtState) -> None:
        super().__init__(sock)
        self.state = state

    def send(self, apdu: bytes) -> None:
        if self.state.take_fault(Fault.GARBAGE):
            apdu = GARBAGE_BYTES + apdu
        super().send(apdu)


class TerminalSimulator:
    """A simulated payment terminal. See the package docstring for the API."""

    def __init__(
        self,
        state_file: Path | None = None,
        delays: Delays | None = None,
        link_timeouts: Timeouts | None = None,
        terminal_id: str = "52523535",
    ) -> None:
        self.state = PtState(Ledger(state_file), terminal_id=terminal_id, delays=delays or Delays())
        self.link_timeouts = link_timeouts or Timeouts()
        self.address = ""  # "tcp://127.0.0.1:PORT" or the pty slave device path
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closers: list[_Closable] = []
        self._slave_fd: int | None = None

    # ---------------------------------------------------------------- starting
    @classmethod
    def start_tcp(
        cls,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state_file: Path | None = None,
        delays: Delays | None = None,
        terminal_id: str = "52523535",
    ) -> TerminalSimulator:
        """Serve ZVT over TCP on ``host:port`` (0: the OS picks); ``address`` says where."""
        sim = cls(state_file, delays, None, terminal_id)
        server = socket.create_server((host, port))
        server.settimeout(0.05)
        sim.address = f"tcp://{host}:{server.getsockname()[1]}"
        sim._closers.append(server)
        sim._run(lambda: sim._serve_tcp(server))
        return sim

    @classmethod
    def start_pty(
        cls,
        *,
        state_file: Path | None = None,
        delays: Delays | None = None,
        link_timeouts: Timeouts | None = None,
        terminal_id: str = "52523535",
    ) -> TerminalSimulator:
        """Serve ZVT serial framing on a new pty pair; ``address`` is the slave device."""
        sim = cls(state_file, delays, link_timeouts, terminal_id)
        master, slave = os.openpty()
        tty.setraw(slave)  # no line discipline: the bytes are the protocol
        sim.address = os.ttyname(slave)
        sim._slave_fd = slave  # kept open so the master never reads EIO between sessions
        channel = FdChannel(master)
        sim._closers.append(channel)
        sim._run(lambda: sim._serve_serial(channel))
        return sim

    def _run(self, target: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=target, name="zvt-sim", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        closers, self._closers = self._closers, []  # idempotent: fds are closed once only
        for closer in closers:
            with contextlib.suppress(OSError):
                closer.close()
        if self._slave_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._slave_fd)
            self._slave_fd = None

    def __enter__(self) -> TerminalSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- scripting
    def script(self, *cards: Card | Behaviour) -> None:
        """Queue what the next cards do; without a script every card is approved."""
        with self.state.lock:
            for card in cards:
                self.state.cards.append(card if isinstance(card, Card) else Card(card))

    def set_delays(self, delays: Delays) -> None:
        self.state.delays = delays

    def inject(self, fault: Fault, count: int = 1) -> None:
        with self.state.lock:
            self.state.faults[fault] += count

    def pending_faults(self) -> dict[str, int]:
        with self.state.lock:
            return {f.value: n for f, n in self.state.faults.items() if n}

    def ledger(self) -> dict[str, object]:
        return self.state.ledger.snapshot()

    def set_terminal_status(self, status: int) -> None:
        self.state.terminal_status = status

    def set_hostile(self, pan: str | None) -> None:
        """From now on send ``pan`` in clear in every field that can carry it (None: stop)."""
        self.state.hostile_pan = pan

    # ---------------------------------------------------------------- serving
    def _serve_tcp(self, server: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _FaultyTcpLink(conn, self.state)
            engine = PtEngine(link, self.state)
            try:
                while not self._stop.is_set():
                    engine.serve_one(0.05)
            except Dropped as exc:
                log.info("sim: TCP link ends (%s)", exc)
            finally:
                link.close()

    def _serve_serial(self, channel: FdChannel) -> None:
        link = _FaultySerialLink(channel, self.link_timeouts, self.state)
        engine = PtEngine(link, self.state)
        while not self._stop.is_set():
            try:
                engine.serve_one(0.05)
            except Dropped as exc:
                log.info("sim: serial link drops (%s)", exc)
                self._deaf(channel, self.state.delays.drop_seconds)
                link.deframer.reset()
                link.inbox.clear()
                engine = PtEngine(link, self.state)

    def _deaf(self, channel: FdChannel, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stop.is_set():
            channel.read(0.02)
