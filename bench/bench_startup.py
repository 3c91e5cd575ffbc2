"""Process start to first screen, next to its floor: a bare PySide6 window started the same way
(a fresh Python process, offscreen, timed from just before the process is spawned until the
window has been shown and painted).

    .venv/bin/python bench/bench_startup.py [--runs 5]

Two app figures: the sample station on simulated hardware (`evkiosk run --simulate`: simulators
and the embedded backend in or next to the app), and the same station configured as real
hardware whose devices are standalone simulators started by this bench beforehand (`evkiosk
sim meter|terminal` processes on 127.0.0.1, as a charger's devices are already powered), with
a backend URL that does not answer yet. Each child does what `evkiosk run` does: the window on
the station as configured (every tile "connecting…"), shown; the time is taken when that idle
screen has been painted (ui.app.when_first_frame). The station itself (journal, runtime,
devices, simulators, backend) is built after that frame, on a thread of its own. Prints
`figure<TAB>value` lines for bench/run_all.py: wall time and, since a loaded machine makes
wall time mostly the wait for a core, the CPU time each process used until its first frame.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "assets" / "samples"

BARE_IDLE = """
import sys
from PySide6.QtCore import QSocketNotifier
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel("hello")
label.resize(800, 480)
label.show()
label.grab()
app.processEvents()
print("ready", flush=True)
closed = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
closed.activated.connect(app.quit)
app.exec()
"""
BARE_WINDOW = """
import sys, time
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel("hello")
label.resize(800, 480)
label.show()
label.grab()  # painted once
app.processEvents()
print(f"{time.time() - float(sys.argv[1]):.4f} {time.process_time():.4f}")
"""


TEST_ONLY_PACKAGES = ("trio",)
# `evkiosk run ...` without the test tools: the arguments follow this program.
RUN_CLI = f"""
import runpy, sys
for name in {TEST_ONLY_PACKAGES!r}:
    sys.modules[name] = None
sys.argv[0] = "evkiosk"
runpy.run_module("kiosk.cli.main", run_name="__main__", alter_sys=True)
"""


def child(started: float, config_path: str, simulate: bool, idle: bool = False) -> None:
    """Runs in a fresh process: the app until the idle page shows with a snapshot. Prints
    the wall time since the spawn and the process's CPU time (all its threads)."""
    import shutil  # the bench's own imports stay out of the app's figure
    import tempfile
    import threading

    # A station installs the app without the test tools. One of them, selenium, brings trio,
    # which httpcore imports whenever it is installed (4 MB here): hidden, as on a station.
    for name in TEST_ONLY_PACKAGES:
        sys.modules[name] = None  # type: ignore[assignment]

    from kiosk.config import load_config
    from ui.starting import StationStart  # before Qt, as ui/cli.py does

    # isort: split
    from ui import app as kiosk_app
    from ui.qt import QApplication

    qt_app = QApplication([])
    state = Path(tempfile.mkdtemp())
    start = StationStart(load_config(Path(config_path)), simulate=simulate, state_dir=state)
    parts = kiosk_app.build(start.station, zone=start.zone, service=start.service)
    shown: list[tuple[float, float]] = []

    def first_frame() -> None:  # the idle screen is painted; the station is built after it
        shown.append((time.time() - started, time.process_time()))
        start.first_frame_shown()

    kiosk_app.when_first_frame(parts, first_frame)
    parts.window.resize(800, 480)
    parts.window.show()
    # as ui/cli.py does: building the station and recovery never run on the GUI thread
    starter = threading.Thread(target=start.run, name="runtime-start", daemon=True)
    starter.start()
    while not shown:
        qt_app.processEvents()
        time.sleep(0.001)
    assert parts.window.snapshot is not None and parts.window.current_page == "idle"
    print(f"{shown[0][0]:.4f} {shown[0][1]:.4f}", flush=True)
    if idle:  # stay on the idle screen until the bench closes stdin (no polling here)
        from PySide6.QtCore import QSocketNotifier

        closed = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
        closed.activated.connect(qt_app.quit)
        qt_app.exec()
    parts.bridge.close()
    start.cancel()
    starter.join(10)
    start.stop()
    shutil.rmtree(state, ignore_errors=True)


def _environment() -> dict[str, str]:
    # An installed station has its modules compiled (pip writes the .pyc files); timing the
    # compiler on every start would measure a checkout, not a station.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}


def _run(command: list[str]) -> tuple[float, float]:
    """(wall seconds from spawn to the first frame, CPU seconds the process used by then)"""
    import subprocess

    started = time.time()
    out = subprocess.run(
        [*command, repr(started)],
        capture_output=True,
        text=True,
        check=True,
        env=_environment(),
        cwd=ROOT,
    ).stdout.split()
    return float(out[0]), float(out[1])


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Devices:
    """Standalone simulators for the sample station's devices, and its config as real
    hardware pointing at them."""

    def __init__(self, directory: Path) -> None:
        import json
        import shutil
        import subprocess

        self.processes: list[subprocess.Popen[str]] = []
        evkiosk = [sys.executable, "-m", "kiosk.cli.main", "sim"]
        meters = [
            self._start([*evkiosk, "meter", "--listen", "tcp://127.0.0.1:0", "--with-charger",
                         "phoenix-ev-eth"])
            for _ in range(2)
        ]  # fmt: skip
        state = str(directory / "terminal.json")
        terminal = self._start(
            [*evkiosk, "terminal", "--listen", "tcp://127.0.0.1:0", "--no-delays", "--state", state]
        )
        devices = [json.loads(line) for line in meters]
        address = terminal.split()[-1]
        text = (SAMPLES / "station.toml").read_text(encoding="utf-8")
        text = text.replace('hardware = "simulated"', 'hardware = "real"')
        text = text.replace('port = "/dev/ttyUSB0"', f'port = "{address}"')
        text = text.replace('url = "http://127.0.0.1:8080"',
                            f'url = "http://127.0.0.1:{_closed_port()}"')  # fmt: skip
        text = text.replace('journal = "journal.db"', f'journal = "{directory / "journal.db"}"')
        for side, device in zip(("left", "right"), devices, strict=True):
            text = _section(text, f"meters.{side}", device["meter"])
            text = _section(text, f"controllers.{side}", device["controller"])
        shutil.copy(SAMPLES / "tariff.json", directory / "tariff.json")
        self.config = directory / "station.toml"
        self.config.write_text(text, encoding="utf-8")

    def _start(self, command: list[str]) -> str:
        import subprocess

        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=_environment(),
        )
        self.processes.append(process)
        assert process.stdout is not None
        return process.stdout.readline().strip()

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
            process.wait(10)


def _section(text: str, name: str, device: dict[str, object]) -> str:
    """Point [name] at the simulator: its own endpoint (Modbus TCP) and unit."""
    head = text.index(f"[{name}]")
    end = text.find("\n[", head + 1)
    end = len(text) if end < 0 else end
    lines = []
    for line in text[head:end].splitlines():
        if line.startswith("port ="):
            lines.append(f'port = "{device["port"]}"')
        elif line.startswith("unit ="):
            lines.append(f"unit = {device['unit']}")
        elif not line.startswith("bus ="):  # each simulator is its own TCP endpoint
            lines.append(line)
    return text[:head] + "\n".join(lines) + "\n" + text[end:]


def _proc(pid: int) -> tuple[float, float]:
    """(CPU seconds used so far, resident set in MB) of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime, this process only
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return cpu, rss


# `evkiosk run` itself tells no one when its idle screen shows: it is given this long first.
CLI_START_S = 5.0


def idle(
    command: list[str], warmup_s: float, seconds: float, *, cli: bool = False
) -> tuple[float, float]:
    """Start a process, wait for its first line (it is on its idle screen; `evkiosk run`:
    CLI_START_S), let it settle, then its CPU use over `seconds` (percent of one core) and its
    RSS at the end (MB)."""
    import signal
    import subprocess

    process = subprocess.Popen(
        command if cli else [*command, repr(time.time())],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL if cli else subprocess.PIPE,
        stderr=subprocess.DEVNULL if cli else None,
        text=True,
        env=_environment(),
        cwd=ROOT,
    )
    try:
        assert process.stdin is not None
        if cli:
            time.sleep(CLI_START_S)
        else:
            assert process.stdout is not None
            process.stdout.readline()
        time.sleep(warmup_s)
        cpu0, _ = _proc(process.pid)
        began = time.monotonic()
        time.sleep(seconds)
        cpu1, rss = _proc(process.pid)
        elapsed = time.monotonic() - began
        process.stdin.close()  # the child quits its event loop and stops cleanly
        if cli:
            process.send_signal(signal.SIGTERM)  # as systemd stops the station
        process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return (cpu1 - cpu0) / elapsed * 100, rss


def main() -> int:
    if sys.argv[1:2] in (["--child"], ["--idle-child"]):  # before argparse: the app alone
        config, simulate, started = sys.argv[2:5]
        child(float(started), config, simulate == "simulate", idle=sys.argv[1] == "--idle-child")
        return 0
    import argparse
    import shutil
    import statistics
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=0,
        help="also measure idle CPU and RSS over this many seconds per process (0: skip)",
    )
    parser.add_argument("--warmup", type=float, default=10, help="seconds before measuring")
    args = parser.parse_args()
    this = [sys.executable, str(Path(__file__).resolve()), "--child"]
    directory = Path(tempfile.mkdtemp())
    devices = Devices(directory)
    bare: list[tuple[float, float]] = []
    simulated: list[tuple[float, float]] = []
    real: list[tuple[float, float]] = []
    try:
        _run([*this, str(devices.config), "real"])  # compiles the modules once, untimed
        _run([*this, str(SAMPLES / "station.toml"), "simulate"])
        for _ in range(args.runs):  # interleaved, so load changes hit all three alike
            bare.append(_run([sys.executable, "-c", BARE_WINDOW]))
            simulated.append(_run([*this, str(SAMPLES / "station.toml"), "simulate"]))
            real.append(_run([*this, str(devices.config), "real"]))
        if args.idle_seconds > 0:
            here = [sys.executable, str(Path(__file__).resolve()), "--idle-child"]
            measure = {
                "bare": [sys.executable, "-c", BARE_IDLE],
                "real_hw": [*here, str(devices.config), "real"],
                "simulated": [*here, str(SAMPLES / "station.toml"), "simulate"],
            }
            idles = {
                name: idle(command, args.warmup, args.idle_seconds)
                for name, command in measure.items()
            }
            # The station as a charger starts it: the `evkiosk run` command, its CLI included
            # (the test tools hidden, as in the child).
            run = [sys.executable, "-c", RUN_CLI, "run", "--log-level", "WARNING"]
            state = directory / "cli-state"
            commands = {
                "real_hw_cli": [*run, "--config", str(devices.config)],
                "simulated_cli": [*run, "--simulate", "--state", str(state)],
            }
            for name, command in commands.items():
                idles[name] = idle(command, args.warmup, args.idle_seconds, cli=True)
    finally:
        devices.stop()
        shutil.rmtree(directory, ignore_errors=True)
    # Wall time is the figure; on a shared machine it mostly measures the wait for a core,
    # so the CPU time each process used until its first frame is printed beside it.
    for column, suffix in ((0, "s"), (1, "cpu_s")):
        floor = statistics.median(v[column] for v in bare)
        for name, runs in (
            ("app_to_idle", simulated),
            ("app_to_idle_real_hw", real),
            ("bare_qt_window", bare),
        ):
            values = [v[column] for v in runs]
            median = statistics.median(values)
            print(
                f"{name}_{suffix}\t{median:.2f}\tmin {min(values):.2f}, max {max(values):.2f}, "
                f"{args.runs} runs, {median / floor:.1f}x bare window (target <= 3x)"
            )
    if args.idle_seconds > 0:
        bare_cpu, bare_rss = idles["bare"]
        for name, (cpu, _) in idles.items():
            print(
                f"idle_cpu_percent_{name}\t{cpu:.2f}\tapp process, {args.idle_seconds:.0f} s "
                f"after {args.warmup:.0f} s, 1 Hz meter polling; bare window {bare_cpu:.2f} % "
                "(target <= 0.3 % real-hw)"
            )
        for name, (_, rss) in idles.items():
            print(
                f"idle_rss_mb_{name}\t{rss:.1f}\tapp process at idle; bare shown window "
                f"{bare_rss:.1f} MB (target <= 100 MB)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
