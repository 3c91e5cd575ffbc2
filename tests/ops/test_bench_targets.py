"""bench/targets.py reads the targets from the benches' own output lines."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import targets

STARTUP = """\
app_to_idle_s\t0.61\tmin 0.45, max 0.67, 5 runs, 2.6x bare window (target <= 3x)
app_to_idle_real_hw_s\t0.72\tmin 0.56, max 0.74, 5 runs, 3.1x bare window (target <= 3x)
bare_qt_window_s\t0.23\tmin 0.21, max 0.26, 5 runs, 1.0x bare window (target <= 3x)
idle_cpu_percent_bare\t0.00\tapp process, 20 s after 8 s
idle_cpu_percent_real_hw\t0.25\tapp process, 20 s after 8 s
idle_cpu_percent_simulated\t0.80\tapp process, 20 s after 8 s
idle_rss_mb_bare\t51.0\tapp process at idle
idle_rss_mb_real_hw\t90.4\tapp process at idle
idle_rss_mb_simulated\t101.2\tapp process at idle
idle_cpu_percent_real_hw_cli\t0.20\tapp process, 20 s after 8 s
idle_cpu_percent_simulated_cli\t1.00\tapp process, 20 s after 8 s
idle_rss_mb_real_hw_cli\t101.4\tapp process at idle
idle_rss_mb_simulated_cli\t104.0\tapp process at idle
"""
TARIFF = """\
LiveCostCalculator: 100000 readings, 3.09 µs/reading (323,547 readings/s), 57 periods
floor, same loop with one Decimal update per reading: 1.46 µs/reading; live = 2.11x floor
"""
BACKEND = (
    "PostgreSQL  ingest one by one     5000 reports, 50 stations, 1 worker(s), 2 client(s) =   "
    "808.6 reports/s vs psycopg floor  1171.7/s = 0.69x; server CPU  1.13 ms/report =    885 "
    "reports/s per core vs psycopg's own CPU  0.44 ms/report =   2251/s per core =  2.5x\n"
    "PostgreSQL  ingest batched x100   5000 reports, 50 stations, 1 worker(s), 2 client(s) =  "
    "2587.0 reports/s vs psycopg floor  5591.0/s = 0.46x; server CPU  0.36 ms/report =   2762 "
    "reports/s per core vs psycopg's own CPU  0.07 ms/report =  13479/s per core =  4.9x\n"
    "PostgreSQL  ingest one by one     5000 reports, 50 stations, 2 worker(s), 2 client(s) =  "
    "1002.0 reports/s vs psycopg floor  1235.4/s = 0.81x; server CPU  1.61 ms/report =    870 "
    "reports/s per core vs psycopg's own CPU  0.47 ms/report =   2146/s per core =  3.4x\n"
    "PostgreSQL  ingest batched x100   5000 reports, 50 stations, 2 worker(s), 2 client(s) =  "
    "4078.8 reports/s vs psycopg floor  5319.0/s = 0.77x; server CPU  0.30 ms/report =   3289 "
    "reports/s per core vs psycopg's own CPU  0.08 ms/report =  12778/s per core =  3.9x\n"
    "PostgreSQL  reconciliation of 1,000,000 sessions:    9.84 s vs SQL GROUP BY floor   3.85 s "
    "=  2.6x (1000 discrepancies in 300 station-days; planting took 0.0 s)\n"
)


def _by_figure(outputs: dict[str, str]) -> dict[str, targets.Target]:
    return {t.figure: t for t in targets.targets(outputs)}


def test_each_target_is_judged_from_the_figures_of_its_own_run() -> None:
    found = _by_figure({"startup": STARTUP, "tariff": TARIFF, "backend": BACKEND})
    verdicts = {figure: t.verdict() for figure, t in found.items()}
    start = "Process start → idle screen, "
    assert verdicts[start + "simulated station (embedded backend)"] == "yes"
    assert verdicts[start + "real-hardware config (devices on `evkiosk sim`)"] == "**no**"
    # Idle CPU and RSS are judged on `evkiosk run` with a real-hardware config only.
    assert verdicts["Idle CPU, 1 Hz meter polling, `evkiosk run`, real-hardware config"] == "yes"
    assert verdicts["RSS at idle, `evkiosk run`, real-hardware config"] == "**no**"
    assert verdicts["RSS at idle, the app without the CLI, real-hardware config"] == "reported"
    assert verdicts["RSS at idle, `evkiosk run --simulate`"] == "reported"
    assert found["RSS at idle, `evkiosk run --simulate`"].measured == 104.0
    assert verdicts["Live cost per meter reading (sample tariff)"] == "yes"
    assert verdicts["Reconciliation of 1,000,000 sessions, PostgreSQL"] == "yes"
    one = "Ingest, PostgreSQL, one by one, {} worker(s): server CPU per report"
    batched = "Ingest, PostgreSQL, batches of 100, {} worker(s): reports/s (wall)"
    # CPU per report is judged with one worker, reports/s with one worker per core.
    assert verdicts[one.format(1)] == "yes"
    assert verdicts[one.format(2)] == "reported"
    assert verdicts[batched.format(1)] == "reported"
    assert verdicts[batched.format(2)] == "yes"
    # The ratio is the bench's own, from unrounded figures; the floor is the same run's.
    assert found[start + "simulated station (embedded backend)"].ratio == 2.6
    assert found[one.format(2)].floor == 0.47


def test_a_figure_a_bench_did_not_print_is_not_measured_never_met() -> None:
    found = _by_figure({"startup": STARTUP.partition("idle_cpu")[0], "tariff": "", "backend": ""})
    idle_cpu = "Idle CPU, 1 Hz meter polling, `evkiosk run`, real-hardware config"
    assert found[idle_cpu].verdict() == "**not measured**"
    assert found["Live cost per meter reading (sample tariff)"].verdict() == "**not measured**"
    one_worker = _by_figure({"startup": "", "tariff": "", "backend": BACKEND.split("\n")[1]})
    batched = "Ingest, PostgreSQL, batches of 100, 1 worker(s): reports/s (wall)"
    assert one_worker[batched].verdict() == "**no**"  # the only count run is judged
    table = targets.table(list(found.values()))
    assert all(line.count("|") == 7 for line in table)


def test_a_new_run_replaces_the_last_and_keeps_its_targets_dated_below(tmp_path: Path) -> None:
    import run_all

    out = tmp_path / "performance.md"
    out.write_text(
        "# Performance\n\nhand-written\n\n## Earlier measurements\n\n### 2026-11-24\nold"
    )
    first = run_all.page(
        "Written by `bench/run_all.py` on 2026-12-08 02:51 UTC; 2 CPUs",
        ["| first run's targets |"],
        ["| first run's figures |"],
        ["### Tariff engine", "first run's bench output"],
        run_all.earlier_part(out),
    )
    out.write_text("\n".join(first))
    second = "\n".join(
        run_all.page(
            "Written by `bench/run_all.py` on 2026-12-08 04:00 UTC; 2 CPUs",
            ["| second run's targets |"],
            ["| second run's figures |"],
            ["### Tariff engine", "second run's bench output"],
            run_all.earlier_part(out),
        )
    )
    latest, _, earlier = second.partition("## Earlier measurements")
    assert "second run's targets" in latest and "second run's bench output" in latest
    assert "first run's" not in latest
    assert "### The targets in the run of 2026-12-08 02:51 UTC" in earlier
    assert "first run's targets" in earlier and "first run's bench output" not in earlier
    assert earlier.rstrip().endswith("### 2026-11-24\nold")  # what the page kept before
    assert "hand-written" not in second
