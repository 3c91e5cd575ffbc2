"""Fixtures for the Modbus driver tests: simulated stations on real sockets and ptys."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from drivers.modbus.bus import DeviceLink, ModbusBus, RetryPolicy
from drivers.modbus.endpoint import SerialSettings, parse_port
from drivers.modbus_sim import SimStation

# Short timeouts keep fault tests fast; the simulators answer in milliseconds.
FAST = RetryPolicy(attempts=2, backoff_s=0.01, timeout_s=0.25)


class FakeClock:
    """A monotonic clock the test moves by hand; sleeping advances it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def open_bus() -> Iterator[Callable[..., ModbusBus]]:
    """Open buses that are closed again at the end of the test (no leaked sockets)."""
    buses: list[ModbusBus] = []

    def _open(port: str, policy: RetryPolicy = FAST, **kwargs: object) -> ModbusBus:
        bus = ModbusBus(parse_port(port), SerialSettings(), policy=policy, **kwargs)  # type: ignore[arg-type]
        buses.append(bus)
        return bus

    yield _open
    for bus in buses:
        bus.close()


@pytest.fixture
def start_station() -> Iterator[Callable[..., SimStation]]:
    stations: list[SimStation] = []

    def _start(**kwargs: object) -> SimStation:
        station = SimStation.start(**kwargs)  # type: ignore[arg-type]
        stations.append(station)
        return station

    yield _start
    for station in stations:
        station.close()


@pytest.fixture(params=["tcp", "pty", "rtu-tcp"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def link_to(bus: ModbusBus, unit: int, gap_s: float = 0.0) -> DeviceLink:
    return DeviceLink(bus, unit, gap_s)
