"""Idle soak: CPU and memory of `evkiosk run --simulate` left alone, meters polled at 1 Hz.

Starts the real app process offscreen (its embedded backend is a child process, sampled
separately), samples CPU time and RSS from /proc every --every seconds for --minutes, and
prints (and with --out writes as JSON) the figures: mean CPU % of one core, RSS at start and
end, and the RSS growth per hour as the least-squares slope over the samples after warm-up.
The duration in the output is the real one; a shorter run reports its own slope.

    .venv/bin/python bench/bench_soak.py --minutes 60 --out /tmp/soak.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _rss_mb(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * PAGE_KB / 1024


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@dataclass
class Sample:
    t: float
    app_cpu_s: float
    app_rss_mb: float
    backend_cpu_s: float
    backend_rss_mb: float


def _sample(pid: int, t0: float) -> Sample:
    kids = _children(pid)
    return Sample(
        t=time.monotonic() - t0,
        app_cpu_s=_cpu_seconds(pid),
        app_rss_mb=_rss_mb(pid),
        backend_cpu_s=sum(_cpu_seconds(k) for k in kids),
        backend_rss_mb=sum(_rss_mb(k) for k in kids),
    )


def _slope_per_hour(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 2:
        return float("nan")
    return statistics.linear_regression(xs, ys).slope * 3600


def summarise(samples: list[Sample], warmup_s: float) -> dict[str, float]:
    steady = [s for s in samples if s.t >= warmup_s] or samples
    first, last = steady[0], steady[-1]
    span = last.t - first.t
    return {
        "duration_min": round(samples[-1].t / 60, 2),
        "steady_min": round(span / 60, 2),
        "samples": len(steady),
        "app_cpu_percent": round(100 * (last.app_cpu_s - first.app_cpu_s) / span, 2)
        if span
        else float("nan"),
        "backend_cpu_percent": round(100 * (last.backend_cpu_s - first.backend_cpu_s) / span, 2)
        if span
        else float("nan"),
        "app_rss_start_mb": round(first.app_rss_mb, 1),
        "app_rss_end_mb": round(last.app_rss_mb, 1),
        "app_rss_growth_mb_per_h": round(
            _slope_per_hour([s.t for s in steady], [s.app_rss_mb for s in steady]), 2
        ),
        "backend_rss_end_mb": round(last.backend_rss_mb, 1),
        "backend_rss_growth_mb_per_h": round(
            _slope_per_hour([s.t for s in steady], [s.backend_rss_mb for s in steady]), 2
        ),
    }


def soak(minutes: float, every_s: float, warmup_s: float, out: Path | None) -> dict[str, float]:
    state = Path(tempfile.mkdtemp(prefix="evkiosk-soak-"))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    app = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "evkiosk"), "run", "--simulate", "--state", str(state)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        start_new_session=True,  # the app and its backend child stop together
    )
    samples: list[Sample] = []
    t0 = time.monotonic()
    figures: dict[str, float] = {}
    try:
        while time.monotonic() - t0 < minutes * 60 and app.poll() is None:
            samples.append(_sample(app.pid, t0))
            if out is not None and len(samples) > 2:
                figures = summarise(samples, warmup_s)
                _write(out, figures, samples)
            time.sleep(every_s)
        if app.poll() is not None:
            raise SystemExit(f"the app exited with {app.returncode} after {samples[-1].t:.0f} s")
        samples.append(_sample(app.pid, t0))
        figures = summarise(samples, warmup_s)
        if out is not None:
            _write(out, figures, samples, done=True)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(app.pid, signal.SIGTERM)
        try:
            app.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(app.pid, signal.SIGKILL)
    return figures


def _write(out: Path, figures: dict[str, float], samples: list[Sample], done: bool = False) -> None:
    data = {"done": done, "figures": figures, "samples": [asdict(s) for s in samples]}
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(out)  # a reader never sees half a file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds left out of figures")
    parser.add_argument("--out", type=Path, help="write figures and samples as JSON (kept current)")
    args = parser.parse_args()
    figures = soak(args.minutes, args.every, min(args.warmup, args.minutes * 30), args.out)
    for key, value in figures.items():
        print(f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
