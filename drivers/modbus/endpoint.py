"""Where a Modbus device is reached: a serial port, an RTU gateway, or a Modbus TCP server.

PORT strings as installers type them:

- ``/dev/ttyUSB0`` (any path, or ``COM3``): Modbus RTU on a local serial port.
- ``socket://host:port``: RTU framing through a transparent RS485-to-TCP gateway (pyserial URL).
- ``tcp://host:port``: Modbus TCP (MBAP framing), e.g. a meter or controller with Ethernet.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# "192.168.1.20:502", "gateway.local:4001", "[fe80::1]:502": a network address, never a device.
_HOST_PORT = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}")

PARITIES = ("N", "E", "O")
BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


class Transport(enum.Enum):
    SERIAL = "serial"  # RTU on a local serial device
    RTU_GATEWAY = "rtu-gateway"  # RTU framing over a raw TCP socket
    TCP = "tcp"  # Modbus TCP


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """Line settings for RTU. Ignored for Modbus TCP."""

    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8

    def __post_init__(self) -> None:
        if self.parity not in PARITIES:
            raise ValueError(f"parity {self.parity!r} must be one of N, E, O")
        if self.stopbits not in (1, 2):
            raise ValueError(f"stop bits {self.stopbits!r} must be 1 or 2")
        if self.baudrate not in BAUD_RATES:
            raise ValueError(
                f"baud rate {self.baudrate!r} is not a standard rate "
                f"({', '.join(str(b) for b in BAUD_RATES)})"
            )

    @property
    def bits_per_char(self) -> int:
        """Start bit + data bits + parity bit + stop bits: what one byte costs on the wire."""
        return 1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits

    def describe(self) -> str:
        return f"{self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A parsed PORT. `key` identifies the physical bus: one owner per key."""

    transport: Transport
    url: str
    host: str = ""
    port: int = 0

    @property
    def key(self) -> str:
        if self.transport is Transport.SERIAL:
            return f"serial:{self.url}"
        return f"{self.transport.value}:{self.host}:{self.port}"

    @property
    def is_rtu(self) -> bool:
        return self.transport is not Transport.TCP


def _host_port(spec: str, scheme: str, lowest: int) -> tuple[str, int]:
    parts = urlsplit(spec)
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or not lowest <= port < 65536:
        raise ValueError(f"{spec!r}: expected {scheme}://HOST:PORT with a port {lowest}..65535")
    return parts.hostname, port


def parse_port(spec: str, *, listening: bool = False) -> Endpoint:
    """Parse a PORT string. Raises ValueError that names what is wrong.

    `listening` allows port 0 (the system picks a free port), for servers.
    """
    lowest = 0 if listening else 1
    spec = spec.strip()
    if not spec:
        raise ValueError(
            "port is empty: give a serial device, socket://HOST:PORT or tcp://HOST:PORT"
        )
    if spec.startswith("tcp://"):
        host, port = _host_port(spec, "tcp", lowest)
        return Endpoint(Transport.TCP, spec, host, port)
    if spec.startswith("socket://"):
        host, port = _host_port(spec, "socket", lowest)
        return Endpoint(Transport.RTU_GATEWAY, spec, host, port)
    if "://" in spec:
        scheme = spec.split("://", 1)[0]
        raise ValueError(
            f"{spec!r}: unknown scheme {scheme!r}; use a serial device path, "
            "socket://HOST:PORT (RTU gateway) or tcp://HOST:PORT (Modbus TCP)"
        )
    if _HOST_PORT.fullmatch(spec):
        # No serial device is named like this; an installer left out the scheme.
        raise ValueError(
            f"{spec!r} looks like HOST:PORT, not a serial device: write tcp://{spec} "
            f"(Modbus TCP) or socket://{spec} (RTU over a TCP gateway)"
        )
    return Endpoint(Transport.SERIAL, spec)
