"""Station core figures: machine events/s, journal commits/s (synchronous=FULL), snapshot
publish latency. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_core.py [--events 20000] [--commits 500] [--dir /var/tmp]

--dir should be on the disk the kiosk's journal will live on: fsync cost is the figure.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.devices import CardResult, ControllerStatus, IecState, MeterReading, PaymentOutcome
from kiosk.journal.store import Journal
from kiosk.runtime.clock import FakeClock
from kiosk.runtime.core import Runtime
from kiosk.runtime.devices import StationDevices
from kiosk.session import events as ev
from kiosk.session.machine import step
from kiosk.session.model import ConnectorConf, Offer, Policy, Station
from kiosk.snapshot import ConfirmPrice, PayByCard, StationSnapshot

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
# A tariff the runtime can price (it reads every offer's tariff when it starts).
TARIFF = (
    '{"id": "T1", "currency": "EUR", "elements": [{"price_components": '
    '[{"type": "ENERGY", "price": 0.59, "vat": 19, "step_size": 1}]}]}'
)
OFFER = Offer("T1", TARIFF, "EUR", 100_000_000)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def charging_station() -> Station:
    """A station with one session charging on connector 1."""
    st = Station(Policy(meter_stale_after=timedelta(days=1)), (ConnectorConf("1"),))
    status = ControllerStatus(at(0), IecState.B, "B", False)
    for event in (
        ev.ControllerUpdate(at(0), "1", status),
        ev.MeterUpdate(at(0), "1", MeterReading(at(0), 1000)),
        ev.ConnectorChosen(at(0), "1", "S", OFFER),
        ev.IntentReceived(at(0), ConfirmPrice("S")),
        ev.IntentReceived(at(0), PayByCard("S")),
        ev.PreauthDone(
            at(0), "S", CardResult(PaymentOutcome.APPROVED, 100_000_000, "EUR", receipt_no=1)
        ),
        ev.ControllerUpdate(at(0), "1", replace(status, state=IecState.C, charging_enabled=True)),
    ):
        st, _ = step(st, event)
    return st


def readings(n: int) -> list[ev.MeterUpdate]:
    return [
        ev.MeterUpdate(at(i), "1", MeterReading(at(i), 1000 + 3 * i, power_w=11000.0), i)
        for i in range(1, n + 1)
    ]


def bench_machine(n: int) -> None:
    st = charging_station()
    events = readings(n)
    start = time.perf_counter()
    for e in events:
        st, _ = step(st, e)
    elapsed = time.perf_counter() - start
    print(f"machine: {n} meter events in {elapsed:.3f} s = {n / elapsed:,.0f} events/s")


def bench_journal(n: int, directory: Path) -> None:
    journal = Journal.open(directory / "bench-journal.db")
    st = charging_station()
    start = time.perf_counter()
    for e in readings(n):
        after, commands = step(st, e)
        journal.record_step(e, st, after, commands)
        st = after
    elapsed = time.perf_counter() - start
    mode = journal.query("PRAGMA synchronous")[0][0]
    print(
        f"journal: {n} steps (session row + reading per commit, synchronous={mode}) "
        f"in {elapsed:.3f} s = {n / elapsed:,.0f} commits/s, {1000 * elapsed / n:.2f} ms each"
    )
    journal.close()


def bench_snapshots(n: int, directory: Path) -> None:
    clock = FakeClock(T0)
    journal = Journal.open(directory / "bench-snap.db")
    station = charging_station()
    rt = Runtime(
        station=station,
        offers={"1": OFFER},
        journal=journal,
        devices=StationDevices(None, None, {}, {}),
        clock=clock,
        costs=None,  # type: ignore[arg-type]  # no metering starts here
    )
    latencies: list[float] = []
    posted: dict[int, float] = {}
    got = threading.Event()

    def subscriber(snapshot: StationSnapshot) -> None:
        sent = posted.pop(snapshot.seq, None)
        if sent is not None:
            latencies.append(time.perf_counter() - sent)
            got.set()

    rt.subscribe(subscriber)
    rt.start(recover=False)
    base = rt.snapshot.seq if rt.snapshot else 0
    for i, e in enumerate(readings(n), start=1):
        got.clear()
        posted[base + i] = time.perf_counter()
        rt.post(e)
        got.wait(5)
    rt.stop()
    journal.close()
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    print(
        f"snapshot publish (event posted -> subscriber called, journal write included): "
        f"median {statistics.median(ms):.2f} ms, p95 {ms[int(0.95 * len(ms)) - 1]:.2f} ms, "
        f"max {ms[-1]:.2f} ms over {len(ms)} events"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        bench_machine(args.events)
        bench_journal(args.commits, Path(tmp))
        bench_snapshots(min(args.commits, 300), Path(tmp))


if __name__ == "__main__":
    main()
