"""Whatever bytes come back, the driver raises a DeviceError or decodes a valid frame."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.modbus.bus import DeviceLink, ModbusBus, RetryPolicy
from drivers.modbus.endpoint import parse_port
from kiosk.devices import DeviceError


class ScriptedPeer:
    """A TCP peer that answers every request with the bytes the test sets (RTU or MBAP)."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.reply = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(0.1)
                while not self._stop.is_set():
                    try:
                        data = conn.recv(512)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    conn.sendall(self.reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._server.close()


@pytest.fixture(scope="module")
def peer() -> Iterator[ScriptedPeer]:
    p = ScriptedPeer()
    yield p
    p.close()


@pytest.mark.parametrize("scheme", ["socket", "tcp"])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(reply=st.binary(max_size=40))
def test_garbage_reply_is_a_device_error(peer: ScriptedPeer, scheme: str, reply: bytes) -> None:
    peer.reply = reply
    bus = ModbusBus(
        parse_port(f"{scheme}://127.0.0.1:{peer.port}"),
        policy=RetryPolicy(attempts=1, timeout_s=0.05),
    )
    try:
        registers = DeviceLink(bus, 1).read_registers(4, 0, 2)
    except DeviceError:
        pass
    else:
        assert len(registers) == 2 and all(0 <= r <= 0xFFFF for r in registers)
    finally:
        bus.close()
