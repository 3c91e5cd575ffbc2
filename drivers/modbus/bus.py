"""One owner per physical Modbus bus: every request on a serial line or TCP endpoint goes here.

A `ModbusBus` owns the single pymodbus client of one port and serialises all requests on it
(meter and charge controller on the same RS485 line share it). Before each request it waits the
requesting device's inter-request gap after the last transaction ended, because real meters
(Eastron SDM among them) miss requests that follow too closely. Timeouts and garbled replies are
retried with exponential backoff; what finally fails is raised as a `kiosk.devices.DeviceError`
whose message says what to check. The clock and sleep are injected, so timing can be tested.

pymodbus is used with its own retries switched off, so that retry, backoff and the distinction
between "nothing answered" and "garbage answered" are decided here, in one place.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drivers.modbus.endpoint import Endpoint, SerialSettings, Transport
from drivers.modbus.errors import (
    TRANSIENT_EXCEPTION_CODES,
    LinkDown,
    ModbusExceptionReply,
    garbled,
    no_answer,
)
from kiosk.devices import DeviceError

if TYPE_CHECKING:  # pymodbus (with asyncio and ssl) loads at the first request, not at start
    from pymodbus.client import ModbusSerialClient, ModbusTcpClient

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one request: attempts in total and the first backoff (doubling)."""

    attempts: int = 3
    backoff_s: float = 0.05
    timeout_s: float = 0.5

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.timeout_s <= 0:
            raise ValueError("timeout must be positive")


def _build_client(
    endpoint: Endpoint,
    serial: SerialSettings,
    timeout_s: float,
    trace: Callable[[bool, bytes], bytes],
) -> ModbusSerialClient | ModbusTcpClient:
    from pymodbus.client import ModbusSerialClient, ModbusTcpClient  # noqa: PLC0415
    from pymodbus.framer import FramerType  # noqa: PLC0415

    if endpoint.transport is not Transport.SERIAL:
        # A transparent gateway (socket://) carries RTU frames over a plain TCP stream. It is
        # opened as a TCP client with the RTU framer rather than through pyserial's socket://
        # handler: that handler reports at most one waiting byte, so pymodbus' serial receive
        # loop would fetch one byte per poll interval (~1.3 s for an 80-register reply).
        framer = FramerType.SOCKET if endpoint.transport is Transport.TCP else FramerType.RTU
        return ModbusTcpClient(
            endpoint.host,
            port=endpoint.port,
            framer=framer,
            timeout=timeout_s,
            retries=0,
            trace_packet=trace,
        )
    return ModbusSerialClient(
        endpoint.url,
        baudrate=serial.baudrate,
        parity=serial.parity,
        stopbits=serial.stopbits,
        bytesize=serial.bytesize,
        timeout=timeout_s,
        retries=0,
        trace_packet=trace,
    )


class ModbusBus:
    """The single owner of one serial line or TCP endpoint. Thread-safe; calls block."""

    def __init__(
        self,
        endpoint: Endpoint,
        serial: SerialSettings | None = None,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self.serial = serial or SerialSettings()
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.RLock()
        self._idle_since = float("-inf")
        self._rx_seen = b""
        self._built: ModbusSerialClient | ModbusTcpClient | None = None
        self.requests = 0
        self.retries = 0

    def _trace(self, sending: bool, data: bytes) -> bytes:
        # Remember what came back, so a timeout can be told apart from a garbled reply.
        if not sending:
            self._rx_seen = bytes(data)
        return data

    def prepare(self) -> None:
        """Build the client (loading pymodbus) if not done yet. Not at start: a station shows
        its first screen before the devices join; a driver calls this before it times a read,
        so loading the library is not counted against the reading's age."""
        with self._lock:
            if self._built is None:
                self._built = _build_client(
                    self.endpoint, self.serial, self.policy.timeout_s, self._trace
                )

    @property
    def _client(self) -> ModbusSerialClient | ModbusTcpClient:
        self.prepare()
        assert self._built is not None
        return self._built

    def describe(self) -> str:
        if self.endpoint.is_rtu:
            return f"{self.endpoint.url} ({self.serial.describe()})"
        return self.endpoint.url

    def close(self) -> None:
        with self._lock:
            if self._built is not None:
                self._built.close()  # type: ignore[no-untyped-call]

    # ------------------------------------------------------------------ requests

    def execute(
        self, unit: int, gap_s: float, what: str, call: Callable[[Any], Any]
    ) -> tuple[Any, int]:
        """Run one request under the bus lock. Returns (response, retries used)."""
        from pymodbus.exceptions import ConnectionException, ModbusIOException  # noqa: PLC0415

        rtu = self.endpoint.is_rtu
        label = f"{what} (unit {unit} on {self.describe()})"
        last: DeviceError | None = None
        with self._lock:
            for attempt in range(self.policy.attempts):
                if attempt:
                    self._sleep(self.policy.backoff_s * 2 ** (attempt - 1))
                wait = self._idle_since + gap_s - self._clock()
                if wait > 0:
                    self._sleep(wait)
                self._rx_seen = b""
                self.requests += 1
                try:
                    if not self._client.connect():
                        raise self._link_down()
                    response = call(self._client)
                except ModbusIOException:
                    last = (
                        garbled(label, rtu, self._rx_seen)
                        if self._rx_seen
                        else no_answer(label, rtu)
                    )
                    continue
                except ConnectionException:
                    self._client.close()  # type: ignore[no-untyped-call]
                    last = self._link_down()
                    continue
                finally:
                    self._idle_since = self._clock()
                if response.isError():
                    code = int(getattr(response, "exception_code", 0))
                    last = ModbusExceptionReply(code, label)
                    if code in TRANSIENT_EXCEPTION_CODES:
                        continue
                    raise last
                self.retries += attempt
                return response, attempt
        self.retries += self.policy.attempts - 1
        assert last is not None
        raise last

    def _link_down(self) -> LinkDown:
        ep = self.endpoint
        if ep.transport is Transport.SERIAL:
            return LinkDown(
                f"cannot open serial port {ep.url}: check the adapter is plugged in, the path "
                "is right, you may access it (dialout group) and no other program holds it"
            )
        return LinkDown(
            f"cannot connect to {ep.host}:{ep.port}: check the address and port, that the "
            "device or gateway is on the network, and that its Modbus server is enabled"
        )


class DeviceLink:
    """One device (unit id) on a shared bus, with its own inter-request gap."""

    def __init__(self, bus: ModbusBus, unit: int, gap_s: float = 0.0) -> None:
        if not 0 <= unit <= 255:
            raise ValueError(f"unit id {unit} must be 0..255 (RTU devices use 1..247)")
        self.bus = bus
        self.unit = unit
        self.gap_s = gap_s
        self.last_retries = 0

    def _run(self, what: str, call: Callable[[Any], Any]) -> Any:
        response, self.last_retries = self.bus.execute(self.unit, self.gap_s, what, call)
        return response

    def read_registers(self, function: int, address: int, count: int) -> list[int]:
        what = f"reading {count} register(s) at {address} (FC{function:02d})"
        if function == 3:
            r = self._run(
                what, lambda c: c.read_holding_registers(address, count=count, device_id=self.unit)
            )
        elif function == 4:
            r = self._run(
                what, lambda c: c.read_input_registers(address, count=count, device_id=self.unit)
            )
        else:
            raise ValueError(f"function code {function} does not read registers (use 3 or 4)")
        registers = list(r.registers)
        if len(registers) != count:
            raise garbled(
                f"{what}: {len(registers)} registers came back", self.bus.endpoint.is_rtu, b""
            )
        return registers

    def read_bits(self, function: int, address: int, count: int) -> list[bool]:
        what = f"reading {count} bit(s) at {address} (FC{function:02d})"
        if function == 1:
            r = self._run(what, lambda c: c.read_coils(address, count=count, device_id=self.unit))
        elif function == 2:
            r = self._run(
                what, lambda c: c.read_discrete_inputs(address, count=count, device_id=self.unit)
            )
        else:
            raise ValueError(f"function code {function} does not read bits (use 1 or 2)")
        return [bool(b) for b in r.bits[:count]]

    def write_register(self, address: int, value: int) -> None:
        what = f"writing {value} to register {address} (FC06)"
        self._run(what, lambda c: c.write_register(address, value, device_id=self.unit))

    def write_registers(self, address: int, values: list[int]) -> None:
        what = f"writing {len(values)} register(s) at {address} (FC16)"
        self._run(what, lambda c: c.write_registers(address, values, device_id=self.unit))

    def write_coil(self, address: int, value: bool) -> None:
        what = f"writing coil {address} = {int(value)} (FC05)"
        self._run(what, lambda c: c.write_coil(address, value, device_id=self.unit))


class BusRegistry:
    """Hands out one `ModbusBus` per physical port, so devices on one line share an owner."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buses: dict[str, ModbusBus] = {}

    def open(
        self,
        endpoint: Endpoint,
        serial: SerialSettings | None = None,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> ModbusBus:
        with self._lock:
            bus = self._buses.get(endpoint.key)
            if bus is None:
                bus = ModbusBus(endpoint, serial, policy=policy, clock=clock, sleep=sleep)
                self._buses[endpoint.key] = bus
            elif endpoint.is_rtu and serial is not None and serial != bus.serial:
                raise ValueError(
                    f"{endpoint.url} is already open at {bus.serial.describe()}; every device "
                    f"on one bus must use the same line settings (asked for {serial.describe()})"
                )
            return bus

    def close_all(self) -> None:
        with self._lock:
            for bus in self._buses.values():
                bus.close()
            self._buses.clear()
