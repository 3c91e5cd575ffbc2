"""Backend speed: session reports ingested per second with 50 concurrent stations (SQLite and
PostgreSQL), and reconciliation time for many sessions.

    .venv/bin/python bench/bench_backend.py [--reports N] [--sessions N] [--full] [--workers N]
        [--no-postgres] [--no-sqlite] [--no-ingest]

The service runs as `evkiosk backend serve` in its own process, on 127.0.0.1; 50 stations post
completed card sessions at the same time over HTTP (each report is validated, recomputed by the
tariff engine and stored). Reconciliation is timed on sessions planted straight into the
database: 10,000 by default, 1,000,000 with --full (PostgreSQL). Prints figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

from backend import jsonutil, reconcile  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.db import Database  # noqa: E402
from backend.models import ChargingSession, Payment, Station  # noqa: E402
from backend.stations import add_station  # noqa: E402
from tests.backend.conftest import tariff  # noqa: E402
from tests.backend.servers import PG_BIN, PostgresCluster, free_port  # noqa: E402

STATIONS = 50
DAY = date(2026, 3, 2)


def session_body(station: int, n: int) -> dict[str, Any]:
    return {
        "session_id": f"S{station}-{n}",
        "connector_id": "1",
        "start_date_time": "2026-03-02T09:00:00Z",
        "end_date_time": "2026-03-02T10:00:00Z",
        "meter_start_wh": 100_000,
        "meter_end_wh": 110_000,
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
        "tariff": tariff(),
        "total_cost": 625,
        "payment": {
            "method": "card",
            "terminal_id": f"T{station:07d}",
            "receipt_no": n,
            "authorized_amount": 5000,
            "captured_amount": 625,
        },
    }


async def post_reports(base: str, keys: list[str], per_station: int) -> float:
    async def station(i: int, key: str) -> None:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120
        ) as client:
            for n in range(per_station):
                r = await client.post("/api/v1/sessions", json=session_body(i, n))
                if r.status_code != 201:
                    raise RuntimeError(f"report refused: {r.status_code} {r.text[:200]}")

    began = time.perf_counter()
    await asyncio.gather(*(station(i, k) for i, k in enumerate(keys)))
    return time.perf_counter() - began


def bench_ingest(label: str, db_url: str, per_station: int, workers: int) -> None:
    db = Database(db_url)
    db.migrate()
    keys = [add_station(db, Settings(db_url=db_url), f"B{i}") for i in range(STATIONS)]
    db.dispose()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli.main", "backend", "serve", "--db", db_url,
         "--listen", f"127.0.0.1:{port}", "--workers", str(workers)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        elapsed = asyncio.run(post_reports(base, keys, per_station))
    finally:
        proc.terminate()
        proc.wait(30)
    total = STATIONS * per_station
    print(
        f"{label:<11} {total:>7} session reports from {STATIONS} concurrent stations, "
        f"{workers} worker(s), "
        f"in {elapsed:6.2f} s = {total / elapsed:7.1f} reports/s"
    )


def plant(db: Database, count: int) -> None:
    """count card sessions over 10 stations and 30 days, every 1000th with a 1-cent mismatch."""
    snapshot = jsonutil.loads(json.dumps(tariff()))
    now = datetime.now(UTC)
    with db.session() as s:
        for i in range(10):
            s.add(Station(id=f"R{i}", name="", key_id=f"r{i:015d}", key_hash="x", created_at=now))
    batch = 20_000
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    for lo in range(0, count, batch):
        n = min(batch, count - lo)
        sessions = []
        for k in range(lo, lo + n):
            ended = start + timedelta(days=(k // 10) % 30, minutes=k % 600)
            sessions.append(
                {
                    "pk": k + 1, "station_id": f"R{k % 10}", "session_id": f"S{k}",
                    "receipt_id": f"r{k}", "connector_id": "1",
                    "started_at": ended - timedelta(hours=1), "ended_at": ended,
                    "meter_start_wh": 0, "meter_end_wh": 10_000, "currency": "EUR",
                    "time_zone": "Europe/Berlin", "tariff": snapshot, "cdr": {},
                    "reported_minor": 625, "computed_minor": 625, "computed": {},
                    "payment_method": "card", "link_id": None, "created_at": ended,
                    "response": {},
                }
            )  # fmt: skip
        payments = [
            {
                "station_id": f"R{k % 10}", "method": "card", "session_pk": k + 1,
                "currency": "EUR", "authorized_minor": 5000,
                "captured_minor": 624 if k % 1000 == 0 else 625, "released": True,
                "status": "captured", "failure": "", "terminal_id": f"T{k % 10}",
                "receipt_no": k, "created_at": sessions[k - lo]["ended_at"],
                "link_id": None, "gateway": None, "gateway_ref": None,
                "trace_no": None, "auth_code": None, "card_brand": None, "masked_pan": None,
                "captured_at": sessions[k - lo]["ended_at"],
            }
            for k in range(lo, lo + n)
        ]  # fmt: skip
        with db.session() as s:
            s.execute(insert(ChargingSession), sessions)
            s.execute(insert(Payment), payments)


def bench_reconcile(label: str, db_url: str, count: int) -> None:
    db = Database(db_url)
    db.migrate()
    began = time.perf_counter()
    plant(db, count)
    planted = time.perf_counter() - began
    began = time.perf_counter()
    report = reconcile.reconcile(
        db, Settings(db_url=db_url), DAY.replace(day=1), DAY.replace(day=31)
    )
    elapsed = time.perf_counter() - began
    print(
        f"{label:<11} reconciliation of {count:>9,} sessions: {elapsed:7.2f} s "
        f"({count / elapsed:,.0f} sessions/s; {report.discrepancy_count} discrepancies in "
        f"{len(report.rows)} station-days; planting took {planted:.1f} s)"
    )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=20, help="reports per station (default 20)")
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions to reconcile")
    parser.add_argument(
        "--full", action="store_true", help="1,000,000 sessions, 100 reports/station"
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--no-ingest", action="store_true", help="only time reconciliation")
    args = parser.parse_args()
    if args.full:
        args.sessions, args.reports = 1_000_000, 100
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            if not args.no_ingest:
                bench_ingest("SQLite", f"sqlite:///{tmp}/ingest.db", args.reports, args.workers)
            bench_reconcile("SQLite", f"sqlite:///{tmp}/reconcile.db", min(args.sessions, 100_000))
    if args.no_postgres or not (PG_BIN / "postgres").exists():
        print("PostgreSQL   skipped")
        return
    cluster = PostgresCluster()
    cluster.start()
    try:
        if not args.no_ingest:
            bench_ingest("PostgreSQL", cluster.new_database(), args.reports, args.workers)
        bench_reconcile("PostgreSQL", cluster.new_database(), args.sessions)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
