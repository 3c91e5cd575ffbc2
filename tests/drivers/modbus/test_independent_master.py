"""The simulated SDM630 read by an independent Modbus master (Debian's mbpoll)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

import pytest

from drivers.modbus_sim import SimStation
from tests.conftest import require_executable

from .conftest import FakeClock

Starter = Callable[..., SimStation]


def mbpoll(*args: str) -> dict[int, float]:
    exe = require_executable("mbpoll")
    out = subprocess.run(
        [exe, "-1", "-o", "1", *args], capture_output=True, text=True, timeout=20, check=True
    ).stdout
    # Lines look like "[73]: \t12345.678" (reference number, then the value).
    return {int(ref): float(value) for ref, value in re.findall(r"^\[(\d+)\]:\s+(\S+)", out, re.M)}


@pytest.fixture
def sdm630_charging(start_station: Starter) -> Callable[[str], SimStation]:
    def _start(transport: str) -> SimStation:
        # A still clock: the counter holds its value while the master reads it.
        station = start_station(transport=transport, controller_profile=None, clock=FakeClock())
        station.model.set_ev(soc=0.5, max_power_w=11_000)
        station.plug_in()
        station.model.set_enabled(True)
        return station

    return _start


def test_mbpoll_over_tcp_reads_the_documented_sdm630_registers(
    sdm630_charging: Callable[[str], SimStation],
) -> None:
    station = sdm630_charging("tcp")
    port = station.meter_port.rsplit(":", 1)[1]
    # SDM630: input registers 30001.. (reference 1 = PDU 0), float32 high word first (-B).
    volts = mbpoll(
        "-m", "tcp", "-p", port, "-a", "1", "-t", "3:float", "-B", "-r", "1", "-c", "3", "127.0.0.1"
    )
    assert volts == {1: pytest.approx(230.1), 3: pytest.approx(229.8), 5: pytest.approx(230.4)}
    amps = mbpoll("-m", "tcp", "-p", port, "-t", "3:float", "-B", "-r", "7", "-c", "3", "127.0.0.1")
    assert [amps[7], amps[9], amps[11]] == pytest.approx(
        [11_000 / 3 / v for v in (230.1, 229.8, 230.4)], rel=1e-4
    )
    total = mbpoll("-m", "tcp", "-p", port, "-t", "3:float", "-B", "-r", "53", "127.0.0.1")
    assert total[53] == pytest.approx(11_000)
    tail = mbpoll(
        "-m", "tcp", "-p", port, "-t", "3:float", "-B", "-r", "71", "-c", "3", "127.0.0.1"
    )
    assert tail[71] == pytest.approx(50.0)
    assert tail[73] == pytest.approx(12_345.678, abs=0.05)  # kWh (mbpoll prints 6 digits)
    assert tail[75] == pytest.approx(12.345, abs=1e-4)


def test_mbpoll_over_rtu_on_a_pty(sdm630_charging: Callable[[str], SimStation]) -> None:
    station = sdm630_charging("pty")
    tail = mbpoll(
        "-m",
        "rtu",
        "-b",
        "9600",
        "-P",
        "none",
        "-a",
        "1",
        "-t",
        "3:float",
        "-B",
        "-r",
        "71",
        "-c",
        "3",
        station.meter_port,
    )
    assert tail[71] == pytest.approx(50.0)
    assert tail[73] == pytest.approx(12_345.678, abs=0.05)


def test_mbpoll_sees_odd_requests_refused_like_on_the_sdm630(
    sdm630_charging: Callable[[str], SimStation],
) -> None:
    station = sdm630_charging("tcp")
    port = station.meter_port.rsplit(":", 1)[1]
    exe = require_executable("mbpoll")
    result = subprocess.run(
        [
            exe,
            "-1",
            "-o",
            "1",
            "-m",
            "tcp",
            "-p",
            port,
            "-t",
            "3",
            "-r",
            "2",
            "-c",
            "1",
            "127.0.0.1",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert "Illegal data address" in result.stdout + result.stderr
