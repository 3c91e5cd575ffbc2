"""Soak: N card sessions back to back through the whole money path with random faults.

A real backend process (SQLite) behind a fault-injecting proxy, the headless kiosk with the ZVT
terminal simulator and a pymodbus meter/controller, one hand-moved clock. Faults per session,
drawn at random: backend 500 / timeout / truncated answer / down for a while, terminal link
lost before or after the booking result, a declined card. An end-of-day every 100 sessions.
At the end one booking the kiosk never saw is planted on the terminal and closed in a batch:
reconciliation must report exactly that one discrepancy and nothing else.

    .venv/bin/python bench/soak_sessions.py [--sessions 2000] [--seed 1]

Prints sessions/hour (wall clock), the kiosk's RSS at start and end, the fault counts and the
reconciliation summary.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.station import BackendAccess
from drivers.zvt_sim import Behaviour
from drivers.zvt_sim import Fault as TerminalFault
from drivers.zvt_sim.ledger import Entry
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart, ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.faultproxy import FaultProxy
from tests.e2e.rig import BackendProcess, Kiosk, kiosk

FAULTS = ["none"] * 6 + ["500", "timeout", "truncate", "down", "drop", "lose", "decline"]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_session(k: Kiosk, proxy: FaultProxy, fault: str, rng: random.Random) -> str:
    sim, terminal = k.station.sims["1"], k.station.terminal_sim
    assert terminal is not None
    if fault in ("500", "timeout", "truncate"):
        proxy.script = [fault]
    elif fault == "down":
        proxy.mode = "down"
    elif fault == "decline":
        terminal.script(Behaviour.DECLINE)
    sim.plug_in(soc=rng.uniform(0.1, 0.8))
    k.advance(2)
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    k.send(ConfirmPrice(sid))
    k.send(PayByCard(sid))
    k.advance(rng.choice([30, 60, 120]), step=10)
    focus = k.snap.focus
    if focus is not None and focus.phase is Phase.CHARGING:
        if fault in ("drop", "lose"):
            terminal.inject(
                TerminalFault.DROP_BEFORE_RESULT if fault == "drop" else TerminalFault.LOSE_RESULT
            )
        k.send(StopCharging(sid))
    for _ in range(20):
        focus = k.snap.focus
        if focus is None or focus.phase in (Phase.RECEIPT, Phase.FAILED):
            break
        k.advance(5, step=5)
    k.send(BackToStart(sid))
    sim.unplug()
    proxy.mode = "ok"
    k.advance(10, step=5)
    return focus.phase.value if focus is not None else "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="evk-soak-"))
    backend = BackendProcess(work / "backend").start()
    faults: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    try:
        with FaultProxy(backend.url) as proxy:
            proxy.hang_s = 1.2
            access = BackendAccess(proxy.url, backend.token)
            with kiosk(work / "kiosk", access, hold=3000, timeout_s=0.5) as k:
                rss_start = rss_mib()
                started = time.monotonic()
                for i in range(args.sessions):
                    fault = rng.choice(FAULTS)
                    faults[fault] += 1
                    outcomes[one_session(k, proxy, fault, rng)] += 1
                    k.snapshots.clear()  # the harness's copy of every snapshot, not the kiosk's
                    if (i + 1) % 100 == 0:
                        k.station.runtime.run_end_of_day()
                        k.advance(5)
                        print(f"{i + 1} sessions, RSS {rss_mib():.1f} MiB", flush=True)
                elapsed = time.monotonic() - started
                for _ in range(240):  # let the outbox drain
                    if k.snap.reporting is not None and k.snap.reporting.outbox_queued == 0:
                        break
                    k.advance(30, step=30)
                k.station.runtime.run_end_of_day()  # close what the last 100 left open
                k.advance(5)
                assert k.station.terminal_sim is not None
                # The planted discrepancy: a booking the kiosk never saw, closed in a batch.
                ledger = k.station.terminal_sim.state.ledger
                ledger.state.batch.append(Entry(9999, 9999, 777, 0x0A, "VISA", "4111**1111", "1"))
                k.clock.advance(timedelta(days=1))
                k.station.runtime.run_end_of_day()
                k.advance(5)
                reporting = k.snap.reporting
                rss_end = rss_mib()
                day = k.clock.now()
        report = backend.reconciliation(day - timedelta(days=2))
    finally:
        backend.stop()
    classes = Counter(d["class"] for row in report["days"] for d in row["discrepancies"])
    stored = backend.sessions()
    print(f"sessions: {args.sessions} in {elapsed:.0f} s = {args.sessions / elapsed * 3600:.0f}/h")
    print(f"kiosk RSS: start {rss_start:.1f} MiB, end {rss_end:.1f} MiB")
    print(f"faults: {dict(faults)}")
    print(f"outcomes: {dict(outcomes)}")
    print(f"outbox at the end: {reporting}")
    print(
        f"backend sessions stored: {len(stored)} (unique {len({s['session_id'] for s in stored})})"
    )
    print(f"reconciliation discrepancies: {dict(classes)} (planted: batch_total_mismatch 1)")
    ok = dict(classes) == {"batch_total_mismatch": 1}
    print("RESULT:", "only the planted discrepancy" if ok else "UNEXPECTED DISCREPANCIES")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
