"""Kiosk UI figures, printed (nothing asserted):

startup   process start to the idle screen shown with the first snapshot, and RSS then
          (a fresh `evkiosk run --simulate`-equivalent process, offscreen)
latency   a meter reading returning from the Modbus driver to the charging screen's label
          showing it (real runtime, real simulators, the bridge, the window)
sessions  RSS before and after N full card sessions driven through the window's buttons

  .venv/bin/python bench/bench_ui.py [startup|latency|sessions|all] [--sessions N] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ui"))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------------------- startup


def child_startup(started: float) -> None:
    """Runs in a fresh process: the app on simulated hardware until the idle page shows."""
    from kiosk.config import load_config
    from ui import app as kiosk_app
    from ui.cli import SAMPLE_CONFIG
    from ui.composition import assemble
    from ui.qt import QApplication

    qt_app = QApplication([])
    state = Path(tempfile.mkdtemp())
    asm = assemble(load_config(SAMPLE_CONFIG), simulate=True, state_dir=state)
    parts = kiosk_app.build(asm.runtime, zone=asm.zone, service=asm.service)
    parts.window.resize(800, 480)
    parts.window.show()
    asm.start()
    while not (parts.window.snapshot is not None and parts.window.current_page == "idle"):
        qt_app.processEvents()
        time.sleep(0.001)
    shown = time.time()
    print(f"{shown - started:.3f} {rss_mb():.1f}")
    sys.stdout.flush()
    parts.bridge.close()
    asm.stop()


def bench_startup(runs: int) -> None:
    times, rss = [], []
    for _ in range(runs):
        started = time.time()
        out = subprocess.run(
            [sys.executable, __file__, "--child-startup", repr(started)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        times.append(float(out[0]))
        rss.append(float(out[1]))
    print(
        f"startup: process start -> idle screen shown: median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}, {runs} runs); "
        f"RSS then: median {statistics.median(rss):.0f} MB"
    )


# ---------------------------------------------------------------------------- station


class Bot:
    """The part of pytest-qt's qtbot the flow rig uses, for a plain script."""

    def __init__(self, app: object) -> None:
        self.app = app

    def addWidget(self, widget: object) -> None:
        pass

    def waitUntil(self, check: object, timeout: int = 10_000) -> None:
        deadline = time.monotonic() + timeout / 1000
        while not check():  # type: ignore[operator]
            self.app.processEvents()  # type: ignore[attr-defined]
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not catch up")


def bench_latency(samples: int) -> None:
    from flowrig import start_flow

    from drivers.meter.modbus_meter import ModbusMeter
    from ui.qt import QApplication

    app = QApplication.instance() or QApplication([])
    read_done: dict[object, float] = {}
    original = ModbusMeter.read

    def timed_read(self: ModbusMeter) -> object:
        reading = original(self)
        read_done[reading.measured_at] = time.perf_counter()
        return reading

    ModbusMeter.read = timed_read  # type: ignore[method-assign]
    shown: list[float] = []
    flow = start_flow(Path(tempfile.mkdtemp()), Bot(app))
    window = flow.window

    def after_render(snapshot: object) -> None:
        live = window.snapshot.focus.live if window.snapshot and window.snapshot.focus else None
        if live is None or window.current_page != "charging":
            return
        if (
            window.pages["charging"].values["energy"][1].text()
            == window.lang.energy_kwh(live.energy_wh)
            and live.measured_at in read_done
        ):
            shown.append(time.perf_counter() - read_done.pop(live.measured_at))

    flow.bridge.snapshot.connect(after_render)  # type: ignore[attr-defined]
    flow.tap("tile_1")
    flow.tap("accept_price")
    flow.tap("pay_card")
    flow.advance(1)
    flow.panel.plug_buttons["1"].click()  # type: ignore[attr-defined]
    flow.advance(3)
    for _ in range(samples):
        flow.advance(1)
    flow.bridge.close()  # type: ignore[attr-defined]
    assert flow.asm is not None
    flow.asm.stop()
    ModbusMeter.read = original  # type: ignore[method-assign]
    ms = sorted(v * 1000 for v in shown)
    print(
        f"latency: meter reading returned -> label shows it: median {statistics.median(ms):.1f} ms,"
        f" p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms, max {ms[-1]:.1f} ms ({len(ms)} readings)"
    )


def bench_sessions(count: int) -> None:
    from flowrig import start_flow

    from ui.qt import QApplication

    app = QApplication.instance() or QApplication([])
    flow = start_flow(Path(tempfile.mkdtemp()), Bot(app))
    before = rss_mb()
    started = time.perf_counter()
    for i in range(count):
        flow.tap("tile_1")
        flow.tap("accept_price")
        flow.tap("pay_card")
        flow.advance(1)
        flow.panel.plug_buttons["1"].click()  # type: ignore[attr-defined]
        flow.advance(3)
        flow.advance(10, step=5)
        flow.tap("stop")
        flow.tap("stop_yes")
        flow.advance(2)
        if flow.window.current_page != "receipt":
            raise RuntimeError(f"session {i}: ended on {flow.window.current_page}")
        flow.tap("done")
        flow.asm.simulator.plug("1", False)  # type: ignore[union-attr]
        flow.advance(2)
        if (i + 1) % 100 == 0:
            print(f"  {i + 1} sessions, RSS {rss_mb():.0f} MB", flush=True)
    elapsed = time.perf_counter() - started
    after = rss_mb()
    flow.bridge.close()  # type: ignore[attr-defined]
    assert flow.asm is not None
    flow.asm.stop()
    print(
        f"sessions: {count} card sessions through the window in {elapsed:.0f} s "
        f"({elapsed / count * 1000:.0f} ms each); RSS {before:.0f} MB before, {after:.0f} MB after"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "what", nargs="?", default="all", choices=["startup", "latency", "sessions", "all"]
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--child-startup", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_startup is not None:
        child_startup(args.child_startup)
        return 0
    if args.what in ("startup", "all"):
        bench_startup(args.runs)
    if args.what in ("latency", "all"):
        bench_latency(args.samples)
    if args.what in ("sessions", "all"):
        bench_sessions(args.sessions)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
