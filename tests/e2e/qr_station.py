"""A kiosk process for the QR power-cut drill: `qr_station.py DIR URL TOKEN MODE KILL_AFTER`.

MODE "run" drives one QR session (link, paid on the pay page, charging, stop, report) and,
with KILL_AFTER = n > 0, SIGKILLs itself right after the journal's n-th commit: a power cut.
MODE "recover" starts on the same state (recovery runs), with the car still plugged in and the
meter still counting where it was, and lets time pass until nothing is open and the outbox is
empty. Prints what it saw as JSON.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx

from drivers.station import BackendAccess
from kiosk.runtime.clock import FakeClock
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart, ChooseConnector, ConfirmPrice, PayByQr, StopCharging
from tests.e2e.rig import Kiosk, kiosk, now_utc


def pay(url: str) -> None:
    form = {"card_number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"}
    httpx.post(url, data=form, timeout=30)


def run(k: Kiosk) -> None:
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    k.send(ConfirmPrice(sid))
    k.send(PayByQr(sid))
    k.advance(1)
    focus = k.snap.focus
    assert focus is not None and focus.payment_link is not None
    pay(focus.payment_link.url)
    for _ in range(30):
        k.advance(1)
        if k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING:
            break
    k.advance(60, step=10)
    k.send(StopCharging(sid))
    k.advance(5)
    k.send(BackToStart(sid))
    k.advance(5)


def recover(k: Kiosk) -> None:
    for _ in range(120):
        for view in (k.snap.focus, *k.snap.background):
            if view is not None and view.phase is Phase.CHARGING:
                k.send(StopCharging(view.session_id))
            elif view is not None and view.phase is Phase.RECEIPT:
                k.send(BackToStart(view.session_id))
        reporting = k.snap.reporting
        journal = k.station.runtime.journal
        if not journal.open_sessions() and reporting is not None and not reporting.outbox_queued:
            return
        k.advance(10, step=5)


def main() -> int:
    workdir, url, token, mode, kill = sys.argv[1:6]
    state = Path(workdir)
    clock_file = state / "clock.txt"
    start = datetime.fromisoformat(clock_file.read_text()) if clock_file.exists() else now_utc()
    clock = FakeClock(start)
    kill_after = int(kill)

    def prepare(k: Kiosk) -> None:
        journal = k.station.runtime.journal
        sim = k.station.sims["1"]
        (last,) = journal.query("SELECT COALESCE(MAX(energy_wh), 0) FROM readings")[0]
        sim.model.import_wh = max(sim.model.import_wh, float(last))  # the meter kept counting
        sim.plug_in(soc=0.3)  # the car is still there

        def after_commit() -> None:
            clock_file.write_text(clock.now().isoformat())
            if journal.commits == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)

        journal.after_commit = after_commit

    with kiosk(state, BackendAccess(url, token), hold=3000, clock=clock, before_start=prepare) as k:
        k.advance(2)
        if mode == "run":
            run(k)
        else:
            recover(k)
        journal = k.station.runtime.journal
        out = {
            "commits": journal.commits,
            "open": len(journal.open_sessions()),
            "queued": k.snap.reporting.outbox_queued if k.snap.reporting else -1,
            "parked": k.snap.reporting.outbox_parked if k.snap.reporting else -1,
        }
        clock_file.write_text(clock.now().isoformat())
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
