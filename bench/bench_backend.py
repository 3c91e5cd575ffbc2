"""Backend speed, each figure next to its floor measured in the same run: session reports
ingested with 50 concurrent stations (one by one and batched; SQLite and PostgreSQL), and
reconciliation of many sessions.

    .venv/bin/python bench/bench_backend.py [--reports N] [--sessions N] [--full] [--workers N]
        [--clients N] [--no-postgres] [--no-sqlite] [--no-ingest] [--reconcile-db URL]

The service runs as `evkiosk backend serve` in its own process, on 127.0.0.1; 50 stations post
completed card sessions at the same time over HTTP (each report is validated, recomputed by the
tariff engine and stored), first one request per report (with an Idempotency-Key, as the
kiosk's outbox sends it), then 100 reports per request (`POST /sessions:batch`). The load
generator is kept out of the way: every request is built as bytes before the clock starts,
and `--clients` processes (default 2) send them over
keep-alive connections, one per station. Server CPU per report is the server process's own CPU
time (from /proc, workers included), so the load generator's cost does not count; 1 / server
CPU per report is the server's capacity per core. Floors, each printed on the same line with
the ratio: the same session and payment rows inserted by psycopg, one transaction per report
and 100 per transaction (reports/s on one connection, and psycopg's own CPU per report).

Reconciliation is timed on sessions planted straight into the database (10,000 by default,
1,000,000 with --full on PostgreSQL, then VACUUM ANALYZE as autovacuum would) against the
floor of one SQL GROUP BY per station-day over sessions joined to payments. --reconcile-db
reuses a database planted by an earlier run. Prints figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

from backend import jsonutil, reconcile  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.db import Database  # noqa: E402
from backend.models import ChargingSession, Payment, Station  # noqa: E402
from backend.reconcile_sql import utc_day  # noqa: E402
from backend.stations import add_station  # noqa: E402
from tests.backend.conftest import tariff  # noqa: E402
from tests.backend.servers import PG_BIN, PostgresCluster, free_port  # noqa: E402
from tests.backend.steps import session_body as report_body  # noqa: E402

STATIONS = 50
BATCH = 100
DAY = date(2026, 3, 2)


def session_body(station: int, n: int, tag: str = "") -> dict[str, Any]:
    payment = {
        "method": "card",
        "terminal_id": f"T{station:07d}",
        "receipt_no": n if not tag else 100_000 + n,
        "authorized_amount": 5000,
        "captured_amount": 625,
    }
    return report_body(f"S{tag}{station}-{n}", payment)


def raw_requests(key: str, station: int, numbers: range, batch: int) -> list[bytes]:
    """One station's reports as ready HTTP/1.1 requests (built before the clock starts, so
    the load generator spends its time sending, not encoding JSON)."""
    out = []
    for lo in range(numbers.start, numbers.stop, batch):
        bodies = [
            session_body(station, n, "" if batch == 1 else "b")
            for n in range(lo, min(lo + batch, numbers.stop))
        ]
        path, doc = (
            ("/api/v1/sessions", bodies[0])
            if batch == 1
            else ("/api/v1/sessions:batch", {"sessions": bodies})
        )
        body = json.dumps(doc).encode()
        # A single report carries an Idempotency-Key, as the kiosk's outbox sends every report.
        keyed = f"Idempotency-Key: session:{bodies[0]['session_id']}\r\n" if batch == 1 else ""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"{keyed}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


async def _send_all(port: int, requests: list[bytes], batch: int) -> None:
    """Send one station's requests in turn on one keep-alive connection; check each answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            answer = await reader.readexactly(length)
            if batch == 1:
                ok = status == 201
            else:
                ok = status == 200 and answer.count(b'"status_code":201') == (
                    request.count(b'"session_id"')
                )
            if not ok:
                raise RuntimeError(f"report refused: {status} {answer[:200]!r}")
    finally:
        writer.close()


def _client(
    port: int,
    stations: list[tuple[int, str]],
    numbers: range,
    batch: int,
    *,
    ready: Any,
    go: Any,
    done: Any,
) -> None:
    """One load-generator process: its stations' requests built, then sent concurrently."""
    requests = [raw_requests(key, i, numbers, batch) for i, key in stations]
    ready.put(True)
    go.wait()

    async def run() -> None:
        await asyncio.gather(*(_send_all(port, r, batch) for r in requests))

    try:
        asyncio.run(run())
        done.put("")
    except Exception as exc:  # reported to the parent, which raises it
        done.put(repr(exc))


@dataclass(frozen=True)
class Load:
    """Who sends (stations' keys, load-generator processes) to which server."""

    port: int
    keys: list[str]
    clients: int
    server_pid: int


def post_reports(load: Load, numbers: range, batch: int) -> tuple[float, float]:
    """All stations' reports sent by `load.clients` processes at once: (wall seconds, server
    CPU seconds), both from the moment every client holds its ready requests to the last
    answer."""
    port, keys, clients = load.port, load.keys, load.clients
    ctx = multiprocessing.get_context("fork")
    ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(
            target=_client,
            args=(port, [(i, k) for i, k in enumerate(keys) if i % clients == c], numbers, batch),
            kwargs={"ready": ready, "go": go, "done": done},
        )
        for c in range(clients)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=600)
    cpu0, began = cpu_seconds(load.server_pid), time.perf_counter()
    go.set()
    errors = [done.get(timeout=3600) for _ in procs]
    elapsed, cpu = time.perf_counter() - began, cpu_seconds(load.server_pid) - cpu0
    for p in procs:
        p.join(30)
    if any(errors):
        raise RuntimeError("; ".join(e for e in errors if e))
    return elapsed, cpu


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its reaped and live children (workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        pids += [int(c) for c in children]
    return total


def bench_ingest(label: str, db_url: str, per_station: int, workers: int, clients: int) -> None:
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
    total = STATIONS * per_station
    batched = min(BATCH, per_station)
    served: dict[int, tuple[float, float]] = {}  # batch size: (reports/s, server CPU ms/report)
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        # Warm-up, not timed: one report per station (connections opened, snapshot parsed).
        load = Load(port, keys, clients, proc.pid)
        post_reports(load, range(per_station, per_station + 1), 1)
        for batch in (1, batched):
            elapsed, cpu = post_reports(load, range(per_station), batch)
            served[batch] = (total / elapsed, cpu / total * 1000)
    finally:
        proc.terminate()
        proc.wait(30)
    floors = insert_floor(db_url, total, batched) if db_url.startswith("postgresql") else {}
    for batch in (1, batched):
        name = "one by one" if batch == 1 else f"batched x{batch}"
        rate, cpu_ms = served[batch]
        head = (
            f"{label:<11} ingest {name:<12} {total:>6} reports, {STATIONS} stations, "
            f"{workers} worker(s), {clients} client(s) = {rate:7.1f} reports/s"
        )
        cpu = f"server CPU {cpu_ms:5.2f} ms/report = {1000 / cpu_ms:6.0f} reports/s per core"
        if batch not in floors:
            print(f"{head}; {cpu} (no floor)")
            continue
        floor_rate, floor_cpu_ms = floors[batch]
        print(
            f"{head} vs psycopg floor {floor_rate:7.1f}/s = {rate / floor_rate:4.2f}x; "
            f"{cpu} vs psycopg's own CPU {floor_cpu_ms:5.2f} ms/report = "
            f"{1000 / floor_cpu_ms:6.0f}/s per core = {cpu_ms / floor_cpu_ms:4.1f}x"
        )


def insert_floor(db_url: str, total: int, batched: int) -> dict[int, tuple[float, float]]:
    """The same session and payment rows written by psycopg alone (and a single report's
    Idempotency-Key answer): one transaction per report, then `batched` reports per
    transaction (executemany). By batch size: reports/s
    and this process's own CPU per report."""
    import psycopg

    snapshot = json.dumps(tariff())
    conninfo = db_url.replace("postgresql://", "postgresql://", 1)
    now = datetime.now(UTC)
    session_sql = (
        "INSERT INTO sessions (station_id, session_id, receipt_id, connector_id, started_at, "
        "ended_at, meter_start_wh, meter_end_wh, currency, time_zone, tariff, cdr, "
        "reported_minor, computed_minor, computed, payment_method, link_id, created_at, "
        "response) VALUES (%s,%s,%s,'1',%s,%s,100000,110000,'EUR','Europe/Berlin',%s,'{}',"
        "625,625,'{}','card',NULL,%s,'{}') RETURNING pk"
    )
    payment_sql = (
        "INSERT INTO payments (station_id, method, session_pk, currency, authorized_minor, "
        "captured_minor, released, status, failure, terminal_id, receipt_no, created_at) "
        "VALUES (%s,'card',%s,'EUR',5000,625,true,'captured','','T1',%s,%s)"
    )
    key_sql = (
        "INSERT INTO idempotency (station_id, key, endpoint, request_hash, status_code, body, "
        "created_at) VALUES (%s,%s,'sessions','h',201,'{}',%s)"
    )
    floors: dict[int, tuple[float, float]] = {}
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "INSERT INTO stations (id, name, key_id, key_hash, created_at) "
            "VALUES ('F', '', 'f000000000000000', 'x', now()) ON CONFLICT DO NOTHING"
        )
        conn.commit()
        for batch in (1, batched):
            began, cpu0 = time.perf_counter(), time.process_time()
            for lo in range(0, total, batch):
                with conn.transaction(), conn.cursor() as cur:
                    rows = [
                        ("F", f"F{batch}-{n}", f"f{batch}-{n}", now, now, snapshot, now)
                        for n in range(lo, min(lo + batch, total))
                    ]
                    if batch == 1:
                        cur.execute(session_sql, rows[0])
                        pks = [cur.fetchone()[0]]  # type: ignore[index]
                    else:
                        cur.executemany(session_sql, rows, returning=True)
                        pks = []
                        while True:
                            pks.append(cur.fetchone()[0])  # type: ignore[index]
                            if not cur.nextset():
                                break
                    cur.executemany(
                        payment_sql, [("F", pk, lo + k, now) for k, pk in enumerate(pks)]
                    )
                    if batch == 1:  # the Idempotency-Key's answer, as a keyed report stores it
                        cur.execute(key_sql, ("F", f"session:{rows[0][1]}", now))
            elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu0
            floors[batch] = (total / elapsed, cpu / total * 1000)
    return floors


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


def group_by_floor(db: Database, start: datetime, end: datetime) -> float:
    """One SQL GROUP BY per station-day over sessions ⟕ payments: what any reconciliation
    must at least read and sum."""
    C, P = ChargingSession, Payment
    with db.read() as s:
        day = utc_day(C.ended_at, s.get_bind().dialect.name)
        stmt = (
            select(
                C.station_id, day, C.currency, func.count(), func.sum(C.meter_end_wh),
                func.sum(C.computed_minor), func.sum(P.captured_minor),
            )
            .outerjoin(P, P.session_pk == C.pk)
            .where(C.ended_at >= start, C.ended_at < end)
            .group_by(C.station_id, day, C.currency)
        )  # fmt: skip
        began = time.perf_counter()
        s.execute(stmt).all()
        return time.perf_counter() - began


def bench_reconcile(label: str, db_url: str, count: int) -> None:
    db = Database(db_url)
    db.migrate()
    with db.read() as s:
        present = s.scalar(select(func.count()).select_from(ChargingSession)) or 0
    planted = 0.0
    if present == 0:
        began = time.perf_counter()
        plant(db, count)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")  # as autovacuum does after a bulk load
        planted = time.perf_counter() - began
    else:
        count = present
    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = datetime(2026, 4, 1, tzinfo=UTC)
    floors, times = [], []
    for _ in range(2):  # alternate, so both see the same cache and the same neighbours
        floors.append(group_by_floor(db, start, end))
        began = time.perf_counter()
        report = reconcile.reconcile(
            db, Settings(db_url=db_url), DAY.replace(day=1), DAY.replace(day=31)
        )
        times.append(time.perf_counter() - began)
    floor, elapsed = min(floors), min(times)
    print(
        f"{label:<11} reconciliation of {count:>9,} sessions: {elapsed:7.2f} s "
        f"vs SQL GROUP BY floor {floor:6.2f} s = {elapsed / floor:4.1f}x "
        f"({report.discrepancy_count} discrepancies in {len(report.rows)} station-days; "
        f"planting took {planted:.1f} s)"
    )
    db.dispose()


def _counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a count or counts like 1,2") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: every count is at least 1")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=20, help="reports per station (default 20)")
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions to reconcile")
    parser.add_argument(
        "--full", action="store_true", help="1,000,000 sessions, 100 reports/station"
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--workers",
        type=_counts,
        default=[1],
        help="server worker processes; several counts (1,2) run PostgreSQL's ingest once each "
        "(SQLite's with the first)",
    )
    parser.add_argument(
        "--clients", type=int, default=2, help="load-generator processes (default 2)"
    )
    parser.add_argument("--no-ingest", action="store_true", help="only time reconciliation")
    parser.add_argument(
        "--reconcile-db", help="PostgreSQL URL of a database planted by an earlier run"
    )
    args = parser.parse_args()
    if args.full:
        args.sessions, args.reports = 1_000_000, 100
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            if not args.no_ingest:
                bench_ingest(
                    "SQLite",
                    f"sqlite:///{tmp}/ingest.db",
                    args.reports,
                    args.workers[0],
                    args.clients,
                )
            bench_reconcile("SQLite", f"sqlite:///{tmp}/reconcile.db", min(args.sessions, 100_000))
    if args.no_postgres or not (PG_BIN / "postgres").exists():
        print("PostgreSQL   skipped")
        return
    cluster = PostgresCluster()
    cluster.start()
    try:
        if not args.no_ingest:
            for workers in args.workers:
                bench_ingest(
                    "PostgreSQL", cluster.new_database(), args.reports, workers, args.clients
                )
        bench_reconcile("PostgreSQL", args.reconcile_db or cluster.new_database(), args.sessions)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
