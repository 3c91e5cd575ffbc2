"""`evkiosk run` under systemd: READY=1 once the runtime runs, WATCHDOG=1 while the core's
loop is alive, STOPPING=1 on the way out; logging set up from the command line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from kiosk.watchdog import Notifier
from ui.heartbeat import Keepalive, max_heartbeat_age

EVKIOSK = [sys.executable, "-m", "kiosk.cli.main"]


def _messages(sock: socket.socket) -> list[str]:
    sock.setblocking(False)
    got: list[str] = []
    while True:
        try:
            got.append(sock.recv(4096).decode())
        except BlockingIOError:
            return got


def test_simulated_run_notifies_ready_then_watchdog_then_stopping(tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    messages: list[str] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        sock.settimeout(0.2)
        done_running = threading.Event()

        def listen() -> None:  # as systemd does: read as they come
            while not done_running.is_set():
                try:
                    messages.append(sock.recv(4096).decode())
                except TimeoutError:
                    continue

        listener = threading.Thread(target=listen)
        listener.start()
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "NOTIFY_SOCKET": address,
            "WATCHDOG_USEC": "2000000",  # ping at least once a second
        }
        log_file = tmp_path / "kiosk.log"
        try:
            done = subprocess.run(
                [
                    *EVKIOSK,
                    "run",
                    "--simulate",
                    "--state",
                    str(tmp_path / "state"),
                    "--quit-after",
                    "9",  # start-up (embedded backend included) may take seconds when busy
                    "--log-format",
                    "json",
                    "--log-file",
                    str(log_file),
                ],
                capture_output=True,
                text=True,
                timeout=120,
                env=env,
                check=False,
            )
        finally:
            done_running.set()
            listener.join()
        assert done.returncode == 0, done.stderr
        messages += _messages(sock)
    kinds = [m.splitlines()[0] for m in messages]
    assert kinds[0] == "READY=1", kinds
    assert "STATUS=" in messages[0]
    assert kinds[-1] == "STOPPING=1", kinds
    statuses = [k for k in kinds if k.startswith("STATUS=connectors: 1 ")]
    assert statuses and "2 " in statuses[0], kinds  # each connector's status for systemctl
    pings = [k for k in kinds if k == "WATCHDOG=1"]
    assert len(pings) >= 2, kinds  # the first after READY, then from the GUI timer
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert any(line["msg"] == "stopped" for line in lines), lines[-3:]


def test_sigterm_stops_an_idle_station_without_a_watchdog(tmp_path: Path) -> None:
    """No watchdog, so no keepalive timer: SIGTERM is handled all the same, and the station
    stops as it does at the end of `--quit-after` (STOPPING=1, exit 0)."""
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "NOTIFY_SOCKET": address}
        env.pop("WATCHDOG_USEC", None)
        run = [*EVKIOSK, "run", "--simulate", "--state", str(tmp_path / "state")]
        process = subprocess.Popen(
            run, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:
            sock.settimeout(120)  # start-up, embedded backend included, on a busy machine
            first = sock.recv(4096).decode()
            assert first.startswith("READY=1"), first
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode == 0, stderr
        kinds = [m.splitlines()[0] for m in _messages(sock)]
    assert kinds and kinds[-1] == "STOPPING=1", kinds


class _Beat:
    def __init__(self) -> None:
        self.value: float | None = None

    def age(self) -> float | None:
        return self.value


def test_keepalive_pings_only_while_the_machine_is_alive(tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    now = [100.0]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        notifier = Notifier(
            {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "8000000"}, clock=lambda: now[0]
        )
        beat = _Beat()
        keepalive = Keepalive(notifier, beat, max_heartbeat_age(notifier))
        assert keepalive.max_age_s == 3.0
        beat.value = 0.5
        assert not keepalive.beat()  # not ready: recovery may still be running
        keepalive.ready = True
        assert keepalive.beat()
        now[0] += 5
        beat.value = 4.0  # the machine has not handled an event for 4 s: hung
        assert not keepalive.beat()
        beat.value = 0.2
        assert keepalive.beat()
        now[0] += 1
        assert not keepalive.beat()  # half the interval has not passed since the last ping
        beat.value = None
        now[0] += 10
        assert not keepalive.beat()
        assert _messages(sock) == ["WATCHDOG=1", "WATCHDOG=1"]


def test_a_hung_state_machine_stops_the_keepalives(tmp_path: Path) -> None:
    """A real runtime whose machine thread blocks (a subscriber that never returns)."""
    from dataclasses import replace
    from threading import Event

    from kiosk.config import load_config
    from kiosk.snapshot import ChooseConnector, StationSnapshot
    from ui.cli import SAMPLE_CONFIG
    from ui.composition import assemble
    from ui.heartbeat import MachineHeartbeat

    now = [0.0]
    config = replace(load_config(SAMPLE_CONFIG), backend=None)
    asm = assemble(config, simulate=True, state_dir=tmp_path)
    heartbeat = MachineHeartbeat(asm.runtime, clock=lambda: now[0])
    hang, hung, release = Event(), Event(), Event()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    notifier = Notifier(
        {"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "4000000"},
        clock=lambda: now[0],
    )
    keepalive = Keepalive(notifier, heartbeat, max_age_s=0.5)
    keepalive.ready = True

    def subscriber(_snapshot: StationSnapshot) -> None:
        if hang.is_set():
            hung.set()
            release.wait(30)

    asm.runtime.subscribe(subscriber)
    asm.start()
    try:
        assert asm.runtime.wait_idle(30)
        for _ in range(50):  # the ticker posts an event every second
            if heartbeat.age() is not None:
                break
            time.sleep(0.1)
        assert heartbeat.age() == 0.0
        assert keepalive.beat()  # alive: a ping goes out
        hang.set()
        asm.runtime.send(ChooseConnector("1"))  # its snapshot reaches the blocking subscriber
        assert hung.wait(30)
        now[0] += 1.0
        time.sleep(2.5)  # ticks are posted but not handled while the machine is stuck
        assert heartbeat.age() == 1.0
        now[0] += 10.0  # long past the ping interval: only the heartbeat holds it back
        assert not keepalive.beat()
        assert _messages(sock) == ["WATCHDOG=1"]
    finally:
        release.set()
        asm.stop()
        sock.close()


def test_a_manager_that_does_not_read_never_blocks_the_kiosk(tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)  # bound, never read: its queue fills up
        notifier = Notifier({"NOTIFY_SOCKET": address})
        sent = [notifier.status(f"line {i}") for i in range(2000)]
        assert sent[0] and not sent[-1]  # the rest dropped, none waited for
        assert _messages(sock)[0] == "STATUS=line 0"
