"""Session ingest of two source trees side by side: server CPU per report of each.

    .venv/bin/python bench/bench_ingest_pair.py OTHER_TREE [--rounds N] [--reports N]

On a shared, loaded machine a server's CPU per report moves with the load by more than most
changes move it, so two runs minutes apart do not compare. Here both servers (`evkiosk backend
serve` of this tree and of OTHER_TREE, e.g. a `git archive` of the branch point) run at once on
one PostgreSQL cluster, and short runs of the same load (50 stations, --reports per station,
one by one and batched by up to 100, as bench_backend.py sends them) alternate between them, so
both see the same machine. Prints each server's CPU per report over all its runs, and the
spread of runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_backend import STATIONS, Load, post_reports  # noqa: E402

from backend.config import Settings  # noqa: E402
from backend.db import Database  # noqa: E402
from backend.stations import add_station  # noqa: E402
from tests.backend.servers import PostgresCluster, free_port  # noqa: E402


def serve(cluster: PostgresCluster, tree: Path) -> tuple[subprocess.Popen[bytes], Load]:
    """A server of `tree`'s code on a new database with 50 stations, warmed up."""
    url = cluster.new_database()
    db = Database(url)
    db.migrate()
    keys = [add_station(db, Settings(db_url=url), f"B{i}") for i in range(STATIONS)]
    db.dispose()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli.main", "backend", "serve", "--db", url,
         "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(tree)}, cwd=tree,
    )  # fmt: skip
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    load = Load(port, keys, 2, proc.pid)
    post_reports(load, range(10**6, 10**6 + 1), 1)  # connections opened, snapshot parsed
    return proc, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("other", type=Path, help="the other source tree")
    parser.add_argument("--rounds", type=int, default=6, help="alternations (default 6)")
    parser.add_argument("--reports", type=int, default=20, help="per station and run")
    args = parser.parse_args()
    trees = {"this tree": ROOT, str(args.other): args.other.resolve()}
    cluster = PostgresCluster()
    cluster.start()
    procs = []
    try:
        loads = {}
        for name, tree in trees.items():
            proc, loads[name] = serve(cluster, tree)
            procs.append(proc)
        runs: dict[tuple[str, int], list[float]] = {(n, b): [] for n in trees for b in (1, 100)}
        for r in range(args.rounds):
            for batch in (1, 100):
                names = list(trees) if r % 2 == 0 else list(reversed(trees))
                start = (2 * r + (batch > 1)) * args.reports
                for name in names:
                    _, cpu = post_reports(loads[name], range(start, start + args.reports), batch)
                    runs[name, batch].append(cpu / (args.reports * STATIONS) * 1000)
        for (name, batch), ms in runs.items():
            s = sorted(ms)
            print(
                f"{name:<24} "
                f"{'one by one' if batch == 1 else f'batched x{min(batch, args.reports)}':<12} "
                "server CPU "
                f"{sum(ms) / len(ms):5.2f} ms/report ({len(ms)} runs of "
                f"{args.reports * STATIONS} reports: min {s[0]:.2f}, median {s[len(s) // 2]:.2f},"
                f" max {s[-1]:.2f})"
            )
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        cluster.stop()


if __name__ == "__main__":
    main()
