"""Real Modbus servers for the simulated devices: TCP, RTU framing over TCP, or RTU on a pty.

Each `SimServer` runs one pymodbus server on its own asyncio loop in a background thread and
hosts one or more simulated devices (several unit ids on one server = one RS485 line). For RTU
on a pty, two pseudo-terminals are joined by a byte pump, like a null-modem cable: pymodbus'
serial server opens one end, the driver under test opens `port` (the other end) with pyserial,
so the driver's real serial code path and RTU framing (CRC, timing) are exercised.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import threading
import tty
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.modbus_sim.devices import SimulatedDevice

LISTEN_KINDS = ("tcp", "rtu-tcp", "pty")


class PtyPair:
    """Two pseudo-terminals joined back to back; `server_path` and `client_path` are tty paths."""

    def __init__(self) -> None:
        self._fds: list[int] = []
        self._masters: list[int] = []
        paths = []
        for _ in range(2):
            master, slave = os.openpty()
            tty.setraw(slave)
            self._fds += [master, slave]
            self._masters.append(master)
            paths.append(os.ttyname(slave))
        self.server_path, self.client_path = paths
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._pump, name="sim-pty-pump", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        a, b = self._masters
        while True:
            ready, _, _ = select.select([a, b, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue  # the other side is not open yet (EIO on a pty)
                os.write(b if fd == a else a, data)

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self._thread.join(timeout=2)
        for fd in [*self._fds, self._stop_r, self._stop_w]:
            with contextlib.suppress(OSError):
                os.close(fd)


async def _cancel_pending() -> None:
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class SimServer:
    """One listening Modbus server with its devices, running until `close()`."""

    def __init__(
        self,
        devices: Sequence[SimulatedDevice],
        listen: str = "tcp",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        baudrate: int = 9600,
    ) -> None:
        if listen not in LISTEN_KINDS:
            raise ValueError(f"listen kind {listen!r} must be one of {', '.join(LISTEN_KINDS)}")
        self.devices = {d.unit: d for d in devices}
        if len(self.devices) != len(devices) or 0 in self.devices:
            raise ValueError("simulated devices need distinct unit ids other than 0")
        self.kind = listen
        self._pty: PtyPair | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="sim-modbus", daemon=True
        )
        self._thread.start()
        self._server: Any = None
        future: Future[str] = asyncio.run_coroutine_threadsafe(
            self._start(host, port, baudrate), self._loop
        )
        try:
            self.url = future.result(timeout=10)
        except BaseException:
            self.close()
            raise

    def _trace(self, sending: bool, data: bytes) -> bytes:
        if not sending or not data:
            return data
        rtu = self.kind != "tcp"
        unit = data[0] if rtu else (data[6] if len(data) > 7 else -1)
        device = self.devices.get(unit)
        if device is not None:
            return device.faults.mangle(data, rtu)
        if rtu:
            return b""  # on a serial line, nobody answers for an unknown unit id
        # Modbus TCP: answer like a gateway whose target does not respond (exception 11).
        return data[:4] + (3).to_bytes(2, "big") + bytes([unit, data[7] | 0x80, 0x0B])

    async def _start(self, host: str, port: int, baudrate: int) -> str:
        sims = [d.simdevice() for d in self.devices.values()]
        # Unit 0 catches requests for unknown unit ids, which `_trace` then answers as above.
        sims.append(SimDevice(0, simdata=[SimData(0, values=0, datatype=DataType.REGISTERS)]))
        if self.kind == "pty":
            self._pty = PtyPair()
            self._server = ModbusSerialServer(
                sims, port=self._pty.server_path, baudrate=baudrate, trace_packet=self._trace
            )
            await self._server.serve_forever(background=True)
            return self._pty.client_path
        framer = FramerType.SOCKET if self.kind == "tcp" else FramerType.RTU
        self._server = ModbusTcpServer(
            sims, address=(host, port), framer=framer, trace_packet=self._trace
        )
        try:
            await self._server.serve_forever(background=True)
        except RuntimeError as exc:  # pymodbus' word for "bind failed"
            raise OSError(
                f"{host}:{port} is in use or not an address of this machine ({exc})"
            ) from None
        bound = self._server.transport.sockets[0].getsockname()[1]
        scheme = "tcp" if self.kind == "tcp" else "socket"
        return f"{scheme}://{host}:{bound}"

    def close(self) -> None:
        if self._server is not None:
            server = self._server
            self._server = None
            done = asyncio.run_coroutine_threadsafe(server.shutdown(), self._loop)
            with contextlib.suppress(Exception):  # closing a server that failed to start
                done.result(timeout=5)
        if self._loop.is_running():
            # Requests still being answered (a slow-reply fault) are cancelled, not abandoned.
            cancelled = asyncio.run_coroutine_threadsafe(_cancel_pending(), self._loop)
            with contextlib.suppress(Exception):
                cancelled.result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._loop.is_running():
            self._loop.close()
        if self._pty is not None:
            self._pty.close()
            self._pty = None
