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


# The app builds its station on a thread that ends once the runtime runs, and the parent-death
# signal follows the thread that started the child: spawn() starts it on one that stays.
FROM_A_THREAD = """
import os, subprocess, sys, threading
from kiosk.children import child_environment, spawn
CHILD = (
    "import sys\\nfrom kiosk.children import exit_with_parent\\nassert exit_with_parent()\\n"
    "print('armed', flush=True)\\nfor line in sys.stdin:\\n    print('pong', flush=True)\\n"
)
started = []
def build():
    child = spawn([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                  text=True, env=child_environment())
    assert child.stdout.readline() == "armed\\n"
    started.append((threading.get_native_id(), child))
builder = threading.Thread(target=build)
builder.start()
builder.join()
tid, child = started[0]
while os.path.exists(f"/proc/self/task/{tid}"):  # gone: its exit signalled its children
    os.sched_yield()
child.stdin.write("ping\\n")
child.stdin.flush()
print(child.pid, child.stdout.readline().strip() or "dead", flush=True)
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
        _kill_and_wait(parent, child)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_a_child_started_on_a_thread_that_ends_lives_as_long_as_its_kiosk() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", FROM_A_THREAD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as parent:
        assert parent.stdout is not None
        pid, answer = parent.stdout.readline().split()
        assert answer == "pong", "the child ended with the thread that started it"
        child = int(pid)
        assert _alive(child)
        _kill_and_wait(parent, child)


def _kill_and_wait(parent: subprocess.Popen[str], child: int) -> None:
    """SIGKILL the kiosk; its child must end too (within 20 s, however loaded the machine)."""
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 20
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the child outlived the kiosk that started it"


def test_child_environment_names_this_process() -> None:
    assert child_environment()[PARENT_PID_VARIABLE] == str(os.getpid())


def test_nothing_is_armed_without_a_parent_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PARENT_PID_VARIABLE, raising=False)
    assert exit_with_parent() is False
