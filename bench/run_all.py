"""Run every benchmark and write docs/performance.md: the performance targets, each figure with
its floor from the same run, the ratio and whether it is met (also printed); every figure next
to its floor or peer; then each bench's full output with its command. The run the page showed
before moves below, under "Earlier measurements", as its dated targets table.

    .venv/bin/python bench/run_all.py            # default sizes, a 10-minute idle soak
    .venv/bin/python bench/run_all.py --quick    # small sizes, a 1-minute soak (a few minutes)
    .venv/bin/python bench/run_all.py --soak-json /tmp/soak.json   # a longer soak's figures
                                                 # (bench_soak.py --minutes 60 --out FILE)

Figures are printed by the benches; this script only runs them and reads their output.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import targets  # noqa: E402

OUT = ROOT / "docs" / "performance.md"


@dataclass(frozen=True)
class Bench:
    key: str
    title: str
    args: tuple[str, ...]
    quick: tuple[str, ...]


BENCHES = (
    Bench("startup", "Process start to idle screen, idle CPU and RSS",
          ("bench_startup.py", "--runs", "5", "--idle-seconds", "40", "--warmup", "8"),
          ("bench_startup.py", "--runs", "2", "--idle-seconds", "5", "--warmup", "3")),
    Bench("latency", "Meter reading to screen", ("bench_ui.py", "latency", "--samples", "100"),
          ("bench_ui.py", "latency", "--samples", "30")),
    Bench("core", "Core: state machine, journal, snapshot publish", ("bench_core.py",),
          ("bench_core.py", "--events", "5000", "--commits", "200")),
    Bench("modbus", "Modbus poll cycle vs RS485 wire time", ("bench_modbus.py", "--polls", "200"),
          ("bench_modbus.py", "--polls", "50")),
    Bench("zvt", "ZVT codec and pre-auth → book cycle",
          ("bench_zvt.py", "--cycles", "200", "--seconds", "2"),
          ("bench_zvt.py", "--cycles", "50", "--seconds", "0.5")),
    Bench("tariff", "Tariff engine", ("bench_tariff.py",),
          ("bench_tariff.py", "--periods", "2000", "--readings", "20000")),
    Bench("backend", "Backend ingest and reconciliation, SQLite vs PostgreSQL",
          # batches of 100, as the outbox sends them; one worker, and one per core
          ("bench_backend.py", "--reports", "100", "--sessions", "1000000", "--workers", "1,2"),
          ("bench_backend.py", "--reports", "5", "--sessions", "2000")),
)  # fmt: skip


def run(bench: Bench, quick: bool) -> tuple[str, str, float]:
    args = bench.quick if quick else bench.args
    command = [sys.executable, str(ROOT / "bench" / args[0]), *args[1:]]
    shown = ".venv/bin/python bench/" + " ".join(args)
    print(f"running {shown}", file=sys.stderr, flush=True)
    started = time.monotonic()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )
    output = done.stdout.strip()
    if done.returncode != 0:
        output += f"\n[exit {done.returncode}]\n" + done.stderr.strip()[-2000:]
    return shown, output, time.monotonic() - started


def soak(minutes: float) -> tuple[str, dict[str, float]]:
    out = Path(tempfile.mkdtemp()) / "soak.json"
    args = ["--minutes", f"{minutes:g}", "--every", "5", "--warmup", "30", "--out", str(out)]
    shown = ".venv/bin/python bench/bench_soak.py " + " ".join(args[:-2])
    print(f"running {shown}", file=sys.stderr, flush=True)
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_soak.py"), *args], cwd=ROOT, check=True
    )
    return shown, json.loads(out.read_text())["figures"]


def _find(pattern: str, text: str) -> str:
    found = re.search(pattern, text, re.MULTILINE)
    return " ".join(found.group(1).split()) if found else "n/a"


def summary(outputs: dict[str, str], soak_source: str, soaked: dict[str, float]) -> list[str]:
    o = outputs
    app_s = _find(r"^app_to_idle_s\t(\S+)", o["startup"])
    bare_s = _find(r"^bare_qt_window_s\t(\S+)", o["startup"])
    real_s = _find(r"^app_to_idle_real_hw_s\t(\S+)", o["startup"])
    latency = _find(r"latency: .*?median (\S+ ms)", o["latency"])
    rows = [
        (
            "Process start → idle screen (app on simulated hardware, embedded backend)",
            f"{app_s} s",
            f"bare PySide6 window, same start: {bare_s} s",
        ),
        (
            "Process start → idle screen (real-hardware config, devices on `evkiosk sim`)",
            f"{real_s} s",
            f"bare PySide6 window, same start: {bare_s} s",
        ),
        (
            "Live cost per meter reading (sample tariff)",
            _find(r"LiveCostCalculator: .*?, (\S+ µs)/reading", o["tariff"]),
            "same loop, one Decimal update per reading: "
            + _find(r"floor, .*?: (\S+ µs)/reading", o["tariff"]),
        ),
        (
            f"Idle CPU, app process, 1 Hz meter polling ({soaked.get('duration_min', 'n/a')} min)",
            f"{soaked.get('app_cpu_percent', 'n/a')} % of one core",
            f"embedded backend process: {soaked.get('backend_cpu_percent', 'n/a')} %",
        ),
        (
            "RSS, app process: at start of soak → end; growth per hour (least squares)",
            f"{soaked.get('app_rss_start_mb', 'n/a')} → {soaked.get('app_rss_end_mb', 'n/a')} MB;"
            f" {soaked.get('app_rss_growth_mb_per_h', 'n/a')} MB/h",
            f"embedded backend: {soaked.get('backend_rss_end_mb', 'n/a')} MB;"
            f" {soaked.get('backend_rss_growth_mb_per_h', 'n/a')} MB/h",
        ),
        (
            "Meter reading returned → label shows it (median)",
            latency,
            "core alone, event posted → snapshot subscriber: "
            + _find(r"snapshot publish .*?median (\S+ ms)", o["core"]),
        ),
        (
            "RTU poll, full SDM630 snapshot in one request (pty, median)",
            _find(r"^RTU pty\s+1 x 76 regs\s+\d+\s+\S+\s+(\S+)", o["modbus"]) + " ms",
            "wire-time floor at 9600 baud: "
            + _find(r"9600 baud: 1 x 76 regs\s+(\S+ ms)", o["modbus"])
            + ", at 38400: "
            + _find(r"38400 baud: 1 x 76 regs\s+(\S+ ms)", o["modbus"]),
        ),
        (
            "ZVT pre-auth → book cycle, TCP, simulator ledger in memory (median)",
            _find(r"tcp memory ledger.*?median\s+(\S+ ms)", o["zvt"]),
            "same with the simulator's fsync'd ledger: "
            + _find(r"tcp fsync ledger.*?median\s+(\S+ ms)", o["zvt"]),
        ),
        (
            "Backend ingest, 50 concurrent stations (SQLite)",
            _find(r"^SQLite .*?= +(\S+ reports/s)", o["backend"]),
            "PostgreSQL: " + _find(r"^PostgreSQL .*?= +(\S+ reports/s)", o["backend"]),
        ),
        (
            "Backend ingest, PostgreSQL: server CPU per report, one by one; batched",
            _find(r"^PostgreSQL\s+ingest one by one.*?server CPU\s+(\S+ ms)", o["backend"])
            + "; "
            + _find(r"^PostgreSQL\s+ingest batched.*?server CPU\s+(\S+ ms)", o["backend"]),
            "psycopg's own CPU, same rows: "
            + _find(r"^PostgreSQL\s+ingest one by one.*?own CPU\s+(.*)$", o["backend"])
            + "; "
            + _find(r"^PostgreSQL\s+ingest batched.*?own CPU\s+(.*)$", o["backend"]),
        ),
        (
            "Backend reconciliation (SQLite)",
            _find(r"^SQLite\s+reconciliation of\s+(\S+ sessions: +\S+ s)", o["backend"]),
            "PostgreSQL: "
            + _find(r"^PostgreSQL\s+reconciliation of\s+(\S+ sessions: +\S+ s)", o["backend"]),
        ),
    ]
    lines = ["| Figure | Measured | Floor or peer, same run |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines.append("")
    lines.append(f"Soak figures from `{soak_source}`.")
    lines.append("")
    lines.append(
        "Reading it: a pty does not pace bytes at the baud rate, so the RTU figure is the "
        "driver's software cost; a real RS485 line adds at least the wire-time floor (and the "
        "profile's inter-request gap). The ZVT cycle runs against the simulator with zero card "
        "and host delays: what remains is the driver's and the link's overhead. The soak runs "
        "the real `evkiosk run --simulate` process alone; growth per hour is the least-squares "
        "slope of RSS after a warm-up, over the soak's real duration (not extrapolated from a "
        "shorter one unless the duration says so)."
    )
    return lines


TARGETS_NOTE = (
    "Each figure stands beside its floor measured in the same run; the ratio is the bench's own, "
    "from unrounded figures. Start-up is wall time from process start to the painted idle "
    "screen. Idle CPU and RSS are the app process's own, over 40 s after an 8 s settle (CPU "
    "time comes in 10 ms ticks: 0.025 % resolution), judged on the `evkiosk run` command with a "
    "real-hardware config (devices on standalone simulators), as a charger runs it. Server CPU "
    "per report is the backend process's CPU time (workers included) over the reports it "
    "stored, judged with one worker; reports per second are wall time from the first request "
    "to the last answer, judged with one worker per core. A row that a bench did not print is "
    "not met."
)


EARLIER = "## Earlier measurements"


def earlier_part(out: Path) -> list[str]:
    """What the page keeps below this run: the targets of the run it showed (dated), then the
    measurements it kept before."""
    lines = out.read_text().split("\n")
    kept = lines[lines.index(EARLIER) + 1 :] if EARLIER in lines else []
    if "### Targets" in lines and "### All figures" in lines:
        when = next(
            (re.search(r" on (.+? UTC);", line) for line in lines if line.startswith("Written by")),
            None,
        )
        table = lines[lines.index("### Targets") + 1 : lines.index("### All figures")]
        title = f"### The targets in the run of {when.group(1) if when else 'an earlier date'}"
        kept = ["", title, *table, *kept]
    return [EARLIER, *kept] if kept else []


def page(
    written: str, goals: list[str], figures: list[str], sections: list[str], earlier: list[str]
) -> list[str]:
    """The page: this run's targets and figures, each bench's output folded, then what the
    page kept before (the run it showed before is replaced)."""
    folded = [("#" + line if line.startswith("### ") else line) for line in sections]
    return [
        "# Performance", "", "## The latest full run", "", written, "",
        "### Targets", "", TARGETS_NOTE, "", *goals, "",
        "### All figures", "", *figures, "",
        "<details><summary>Each bench's output in that run</summary>", "", *folded,
        "</details>", "", *earlier,
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a 1-minute soak")
    parser.add_argument("--soak-minutes", type=float, default=None)
    parser.add_argument("--soak-json", type=Path, help="figures of a soak run separately")
    parser.add_argument(
        "--soak-wait",
        type=float,
        default=0.0,
        metavar="MIN",
        help="with --soak-json: wait up to MIN minutes for that soak to finish",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    outputs: dict[str, str] = {}
    sections: list[str] = []
    for bench in BENCHES:
        shown, output, elapsed = run(bench, args.quick)
        outputs[bench.key] = output
        sections += [f"### {bench.title}", "", f"`{shown}` ({elapsed:.0f} s)", "", "```"]
        sections += [output, "```", ""]
    if args.soak_json is not None:
        data = json.loads(args.soak_json.read_text())
        deadline = time.monotonic() + args.soak_wait * 60
        while not data.get("done") and time.monotonic() < deadline:
            time.sleep(10)  # the soak rewrites its file as it goes; "done" when it ended
            data = json.loads(args.soak_json.read_text())
        soaked = data["figures"]
        state = "finished" if data.get("done") else "still running when read: partial"
        soak_source = f"bench_soak.py, {soaked['duration_min']} min, {state}"
    else:
        minutes = args.soak_minutes or (1.0 if args.quick else 10.0)
        soak_source, soaked = soak(minutes)
    sections += ["### Idle soak", "", f"`{soak_source}`", "", "```"]
    sections += [f"{k:28} {v}" for k, v in soaked.items()] + ["```", ""]
    cpu = platform.processor() or platform.machine()
    written = (
        "Written by `bench/run_all.py`"
        + (" --quick" if args.quick else "")
        + f" on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs ({cpu}), "
        f"Python {platform.python_version()}, shared with other work, so figures are indicative. "
        "Each figure stands next to a floor or a peer measured in the same run. Re-run it to "
        "refresh this page."
    )
    goals = targets.table(targets.targets(outputs))
    figures = summary(outputs, soak_source, soaked)
    earlier = earlier_part(args.out) if args.out.exists() else []
    args.out.write_text("\n".join(page(written, goals, figures, sections, earlier)))
    print("\n".join(goals))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
