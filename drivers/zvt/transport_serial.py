"""Serial (RS-232) link: DLE STX … DLE ETX frames, DLE stuffing, CRC-16/KERMIT, ACK/NAK.

The CRC is what real terminals compute (checked against captured frames): reflected 0x1021
(0x8408), init 0, over the unstuffed APDU plus ETX, sent low byte first, never stuffed.
The same ``SerialLink`` serves the kiosk (ECR) and the terminal simulator (PT); the simulator
overrides the two hook methods to inject faults.
"""

from __future__ import annotations

import collections
import enum
import os
import select
from dataclasses import dataclass, field
from typing import Protocol

from drivers.zvt.errors import LinkError
from drivers.zvt.link import Clock, Timeouts, monotonic

DLE, STX, ETX, ACK, NAK = 0x10, 0x02, 0x03, 0x06, 0x15
MAX_FRAME = 0xFFFF + 5  # largest APDU (extended length) plus its header


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _crc_table()


def crc16_kermit(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def encode_frame(apdu: bytes) -> bytes:
    crc = crc16_kermit(apdu + bytes([ETX]))
    return (
        bytes([DLE, STX])
        + apdu.replace(bytes([DLE]), bytes([DLE, DLE]))
        + bytes([DLE, ETX])
        + crc.to_bytes(2, "little")
    )


class EventKind(enum.Enum):
    FRAME = "frame"  # a complete frame with a good CRC
    BAD_FRAME = "bad_frame"  # CRC mismatch or broken stuffing: answer NAK
    ACK = "ack"
    NAK = "nak"


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    apdu: bytes = b""
    reason: str = ""


class _State(enum.Enum):
    IDLE = 0
    IDLE_DLE = 1
    BODY = 2
    BODY_DLE = 3
    CRC = 4


@dataclass
class Deframer:
    """Bytes in, events out. Never raises: garbage between frames is counted and dropped."""

    state: _State = _State.IDLE
    body: bytearray = field(default_factory=bytearray)
    crc: bytearray = field(default_factory=bytearray)
    garbage: int = 0

    @property
    def in_frame(self) -> bool:
        return self.state not in (_State.IDLE, _State.IDLE_DLE)

    def reset(self) -> None:
        self.state = _State.IDLE
        self.body.clear()
        self.crc.clear()

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for byte in data:
            event = self._step(byte)
            if event is not None:
                events.append(event)
        return events

    def _step(self, byte: int) -> Event | None:
        state = self.state
        if state is _State.IDLE:
            if byte == DLE:
                self.state = _State.IDLE_DLE
            elif byte == ACK:
                return Event(EventKind.ACK)
            elif byte == NAK:
                return Event(EventKind.NAK)
            else:
                self.garbage += 1
        elif state is _State.IDLE_DLE:
            if byte == STX:
                self.body.clear()
                self.state = _State.BODY
            else:
                self.garbage += 2
                self.state = _State.IDLE_DLE if byte == DLE else _State.IDLE
        elif state is _State.BODY:
            if byte == DLE:
                self.state = _State.BODY_DLE
            elif len(self.body) >= MAX_FRAME:
                self.reset()
                return Event(EventKind.BAD_FRAME, reason=f"frame longer than {MAX_FRAME} bytes")
            else:
                self.body.append(byte)
        elif state is _State.BODY_DLE:
            if byte == DLE:
                self.body.append(DLE)
                self.state = _State.BODY
            elif byte == ETX:
                self.crc.clear()
                self.state = _State.CRC
            elif byte == STX:  # a new frame starts: the previous one was cut off
                self.body.clear()
                self.state = _State.BODY
                return Event(EventKind.BAD_FRAME, reason="frame cut off by a new DLE STX")
            else:
                self.reset()
                return Event(EventKind.BAD_FRAME, reason=f"DLE followed by {byte:02X} in a frame")
        else:  # CRC: exactly two raw bytes after DLE ETX
            self.crc.append(byte)
            if len(self.crc) == 2:
                body = bytes(self.body)
                got = int.from_bytes(self.crc, "little")
                self.reset()
                want = crc16_kermit(body + bytes([ETX]))
                if got != want:
                    return Event(
                        EventKind.BAD_FRAME, body, f"CRC {got:04X} received, {want:04X} computed"
                    )
                return Event(EventKind.FRAME, body)
        return None


def deframe(data: bytes) -> list[Event]:
    """All events in a complete byte string (a pasted log, a test vector)."""
    return Deframer().feed(data)


class ByteChannel(Protocol):
    def read(self, timeout: float) -> bytes:
        """Whatever bytes arrive within ``timeout`` (b"" if none)."""
        ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SerialSettings:
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 2


class PySerialChannel:
    """A serial port (or pty slave) through pyserial, raw, no flow control."""

    def __init__(self, port: str, settings: SerialSettings, poll: float = 0.02) -> None:
        import serial  # noqa: PLC0415 (when a serial terminal is opened: not at start)

        self._failed: tuple[type[Exception], ...] = (serial.SerialException, OSError)
        try:
            self._port = serial.Serial(
                port,
                baudrate=settings.baudrate,
                bytesize=settings.bytesize,
                parity=settings.parity,
                stopbits=settings.stopbits,
                timeout=poll,
                xonxoff=False,
                rtscts=False,
            )
        except (serial.SerialException, ValueError) as exc:
            raise LinkError(f"serial port {port}: cannot open ({exc})") from exc
        self._port.reset_input_buffer()  # bytes left from an earlier session are stale
        self._poll = poll

    def read(self, timeout: float) -> bytes:
        try:
            first = self._port.read(1)  # waits at most one poll interval
            if not first:
                return b""
            waiting = self._port.in_waiting
            return first + (self._port.read(waiting) if waiting else b"")
        except self._failed as exc:
            raise LinkError(f"serial port {self._port.port}: read failed ({exc})") from exc

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except self._failed as exc:
            raise LinkError(f"serial port {self._port.port}: write failed ({exc})") from exc

    def close(self) -> None:
        self._port.close()


class FdChannel:
    """A raw file descriptor (the simulator's pty master)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0.0))
        if not ready:
            return b""
        try:
            return os.read(self.fd, 4096)
        except OSError:  # pty master reads EIO while no one has the slave open
            return b""

    def write(self, data: bytes) -> None:
        try:
            os.write(self.fd, data)
        except OSError as exc:
            raise LinkError(f"fd {self.fd}: write failed ({exc})") from exc

    def close(self) -> None:
        os.close(self.fd)


class SerialLink:
    """Frames, acknowledges and resends APDUs over a byte channel (either side of the line)."""

    def __init__(
        self, channel: ByteChannel, timeouts: Timeouts | None = None, clock: Clock = monotonic
    ) -> None:
        self.channel = channel
        self.timeouts = timeouts or Timeouts()
        self.clock = clock
        self.deframer = Deframer()
        self.inbox: collections.deque[bytes] = collections.deque()
        self.acks: collections.deque[EventKind] = collections.deque()
        self.resent = 0  # frames repeated after NAK or T2, for diagnostics
        self.naks_sent = 0
        self.duplicates = 0
        # A frame equal to the last one received, with nothing sent in between, is the peer
        # repeating it because our ACK got lost: acknowledge it again, deliver it once. The
        # peer repeats a frame at most `resends` times, T2 apart; an equal frame past that is
        # a new message (a status sent again, a command sent anew after its T3 ran out), or a
        # peer whose command we left unanswered could never reach us with it again.
        self._last_in: bytes | None = None
        self._last_in_at = 0.0
        self._repeats = 0
        self._sent_since_last_in = True

    # -- hooks the simulator overrides for fault injection
    def _acknowledge(self, apdu: bytes) -> bool:
        """Answer a good frame; return False to drop it as if it never arrived."""
        self.channel.write(bytes([ACK]))
        return True

    def _frame_bytes(self, apdu: bytes, attempt: int) -> bytes:
        return encode_frame(apdu)

    # -- the link
    def _pump(self, until: float) -> None:
        """Read and handle bytes until ``until`` or until something was delivered."""
        last_byte = self.clock()
        while True:
            now = self.clock()
            if self.deframer.in_frame and now - last_byte > self.timeouts.t1:
                self.deframer.reset()  # T1: a frame stalled mid-way
                self._nak()
            if now >= until:
                return
            data = self.channel.read(min(until - now, self.timeouts.t1))
            if not data:
                continue
            last_byte = self.clock()
            delivered = False
            for event in self.deframer.feed(data):
                if event.kind is EventKind.FRAME:
                    if self._acknowledge(event.apdu):
                        if self._is_repeat(event.apdu, last_byte):
                            self.duplicates += 1
                            self._repeats += 1
                            continue
                        self._last_in, self._last_in_at = event.apdu, last_byte
                        self._repeats = 0
                        self._sent_since_last_in = False
                        self.inbox.append(event.apdu)
                        delivered = True
                elif event.kind is EventKind.BAD_FRAME:
                    self._nak()
                else:
                    self.acks.append(event.kind)
                    delivered = True
            if delivered and not self.deframer.in_frame:
                return

    def _is_repeat(self, apdu: bytes, at: float) -> bool:
        window = (self.timeouts.resends + 1) * (self.timeouts.t2 + self.timeouts.t1)
        return (
            apdu == self._last_in
            and not self._sent_since_last_in
            and self._repeats < self.timeouts.resends
            and at - self._last_in_at <= window
        )

    def _nak(self) -> None:
        self.naks_sent += 1
        self.channel.write(bytes([NAK]))

    def send(self, apdu: bytes) -> None:
        self._sent_since_last_in = True
        attempts = 1 + self.timeouts.resends
        for attempt in range(attempts):
            if attempt:
                self.resent += 1
            self.acks.clear()
            inbox_before = len(self.inbox)
            self.channel.write(self._frame_bytes(apdu, attempt))
            deadline = self.clock() + self.timeouts.t2
            while self.clock() < deadline:
                self._pump(deadline)
                if self.acks:
                    if self.acks.popleft() is EventKind.ACK:
                        return
                    break  # NAK: send again
                if len(self.inbox) > inbox_before:
                    return  # the peer answered with a frame: it got ours (its ACK was lost)
        raise LinkError(
            f"serial: frame {apdu[:2].hex(' ').upper()} not acknowledged after {attempts} attempts"
        )

    def receive(self, timeout: float) -> bytes | None:
        deadline = self.clock() + timeout
        while not self.inbox and self.clock() < deadline:
            self._pump(deadline)
            self.acks.clear()  # stray ACK/NAK bytes outside a send are line noise
        return self.inbox.popleft() if self.inbox else None

    def close(self) -> None:
        self.channel.close()
