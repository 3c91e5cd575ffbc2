"""Simulators and the embedded backend end when the kiosk that started them dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from kiosk.children import PARENT_PID_VARIABLE, child_environment, exit_with_parent

PARENT = """
import sys
from drivers.modbus_sim.process import SimProcess
sim = SimProcess("meter")
print(sim._proc.pid, flush=True)
sys.stdin.read()  # until the test kills this process
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"  # a zombie has already exited
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_a_simulator_ends_when_its_kiosk_is_killed() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 20
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child), "the simulator outlived the kiosk that started it"


def test_child_environment_names_this_process() -> None:
    assert child_environment()[PARENT_PID_VARIABLE] == str(os.getpid())


def test_nothing_is_armed_without_a_parent_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PARENT_PID_VARIABLE, raising=False)
    assert exit_with_parent() is False
