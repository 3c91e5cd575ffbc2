"""Process start to first screen: the kiosk app on simulated hardware next to its floor, a bare
PySide6 window started the same way (a fresh Python process, offscreen, timed from just before
the process is spawned until the window has been shown and painted).

    .venv/bin/python bench/bench_startup.py [--runs 5]

The app's figure is `bench_ui.py startup`'s (assemble the sample station with its simulators
and embedded backend, build the window, start the runtime, wait for the idle screen with the
first snapshot). Prints `figure<TAB>value` lines for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE_WINDOW = """
import sys, time
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel("hello")
label.resize(800, 480)
label.show()
label.grab()  # painted once
app.processEvents()
print(f"{time.time() - float(sys.argv[1]):.4f}")
"""


def _run(command: list[str]) -> float:
    started = time.time()
    out = subprocess.run(
        [*command, repr(started)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        cwd=ROOT,
    ).stdout.split()
    return float(out[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bare = [_run([sys.executable, "-c", BARE_WINDOW]) for _ in range(args.runs)]
    app = [
        _run([sys.executable, str(ROOT / "bench" / "bench_ui.py"), "--child-startup"])
        for _ in range(args.runs)
    ]
    for name, values in (("app_to_idle_s", app), ("bare_qt_window_s", bare)):
        print(
            f"{name}\t{statistics.median(values):.2f}\t"
            f"min {min(values):.2f}, max {max(values):.2f}, {args.runs} runs"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
