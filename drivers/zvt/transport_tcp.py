"""TCP link: bare APDUs, no framing bytes or transport ACK; reassembled by their length field."""

from __future__ import annotations

import contextlib
import socket
from urllib.parse import urlsplit

from drivers.zvt.codec.apdu import header_size
from drivers.zvt.errors import LinkError
from drivers.zvt.link import Clock, Timeouts, monotonic

DEFAULT_PORT = 20007  # spec default; Feig cVEND listens on 22000


class Reassembler:
    """Bytes from a stream in, whole APDUs out: split across reads or several in one read."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        out: list[bytes] = []
        while True:
            sizes = header_size(bytes(self._buffer[:5]))
            if sizes is None:
                return out
            head, size = sizes
            if len(self._buffer) < head + size:
                return out
            out.append(bytes(self._buffer[: head + size]))
            del self._buffer[: head + size]

    @property
    def pending(self) -> int:
        return len(self._buffer)


def parse_tcp_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme != "tcp" or not parts.hostname:
        raise ValueError(f"terminal address {url!r}: expected tcp://HOST[:PORT]")
    return parts.hostname, parts.port or DEFAULT_PORT


class TcpLink:
    def __init__(
        self, sock: socket.socket, timeouts: Timeouts | None = None, clock: Clock = monotonic
    ) -> None:
        self.sock = sock
        self.timeouts = timeouts or Timeouts()
        self.clock = clock
        self._reassembler = Reassembler()
        self._inbox: list[bytes] = []
        self._closed = False

    @classmethod
    def connect(cls, url: str, timeouts: Timeouts | None = None) -> TcpLink:
        timeouts = timeouts or Timeouts()
        host, port = parse_tcp_url(url)
        try:
            sock = socket.create_connection((host, port), timeout=timeouts.connect)
        except OSError as exc:
            raise LinkError(f"terminal {host}:{port}: cannot connect ({exc})") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        return cls(sock, timeouts)

    def send(self, apdu: bytes) -> None:
        if self._closed:
            raise LinkError("TCP link is closed")
        try:
            self.sock.sendall(apdu)
        except OSError as exc:
            self._closed = True
            raise LinkError(f"TCP send failed ({exc})") from exc

    def receive(self, timeout: float) -> bytes | None:
        deadline = self.clock() + timeout
        while not self._inbox:
            if self._closed:
                raise LinkError("TCP link closed by the terminal")
            remaining = deadline - self.clock()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return None
            except OSError as exc:
                self._closed = True
                raise LinkError(f"TCP receive failed ({exc})") from exc
            if not data:
                self._closed = True
                raise LinkError("TCP link closed by the terminal")
            self._inbox += self._reassembler.feed(data)
        return self._inbox.pop(0)

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
