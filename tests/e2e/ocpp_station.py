"""A kiosk process joined to the test CSMS, for the OCPP kill drill:
`ocpp_station.py DIR CSMS_URL BACKEND_URL TOKEN MODE KILL_AFTER [VERSIONS]`.

MODE "run" drives one card session (ZVT simulator, Modbus simulators) and, with KILL_AFTER =
n > 0, SIGKILLs itself right after the journal's n-th commit. MODE "recover" starts on the
same state (recovery runs; the car still plugged in, the meter where it was), lets time pass
until nothing is open, then waits until the CSMS link has sent its whole queue;
"recover-offline" does the same without waiting for the CSMS. MODE "charge" pays and charges
two minutes, waits until the CSMS heard all of it, and SIGKILLs itself. VERSIONS: the [ocpp]
section's, comma-separated (default 2.1). Prints JSON.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drivers.station import BackendAccess
from kiosk.runtime.clock import FakeClock
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart, ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.ocpp_rig import ocpp_kiosk
from tests.e2e.rig import Kiosk, now_utc


def run(k: Kiosk) -> None:
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    k.send(ConfirmPrice(sid))
    k.send(PayByCard(sid))
    k.advance(300, step=10)
    k.send(StopCharging(sid))
    k.advance(5)
    k.send(BackToStart(sid))
    k.advance(5)


def charge_and_die(k: Kiosk) -> None:
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    k.send(ConfirmPrice(sid))
    k.send(PayByCard(sid))
    k.advance(120, step=10)
    journal = k.station.runtime.journal
    deadline = time.monotonic() + 60
    while journal.csms_queued() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGKILL)


def recover(k: Kiosk) -> None:
    for _ in range(120):
        for view in (k.snap.focus, *k.snap.background):
            if view is not None and view.phase is Phase.CHARGING:
                k.send(StopCharging(view.session_id))
            elif view is not None and view.phase is Phase.RECEIPT:
                k.send(BackToStart(view.session_id))
        if not k.station.runtime.journal.open_sessions():
            return
        k.advance(10, step=5)


def main() -> int:
    workdir, csms_url, url, token, mode, kill = sys.argv[1:7]
    state = Path(workdir)
    clock_file = state / "clock.txt"
    start = datetime.fromisoformat(clock_file.read_text()) if clock_file.exists() else now_utc()
    clock = FakeClock(start)
    kill_after = int(kill)
    versions = tuple(sys.argv[7].split(",")) if len(sys.argv) > 7 else ("2.1",)

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

    access = BackendAccess(url, token)
    with ocpp_kiosk(
        state,
        access,
        csms_url,
        before_start=prepare,
        hold=5000,
        clock=clock,
        versions=versions,
    ) as (k, link):
        if mode == "charge":  # the CSMS must see the start live
            deadline = time.monotonic() + 60
            while not link.accepted and time.monotonic() < deadline:
                time.sleep(0.02)
        k.advance(2)
        if mode == "run":
            run(k)
        elif mode == "charge":
            charge_and_die(k)
        else:
            recover(k)
        journal = k.station.runtime.journal
        deadline = time.monotonic() + (0 if mode == "recover-offline" else 60)
        while journal.csms_queued() and time.monotonic() < deadline:
            time.sleep(0.05)
        out = {
            "commits": journal.commits,
            "open": len(journal.open_sessions()),
            "csms_queued": journal.csms_queued(),
        }
        clock_file.write_text(clock.now().isoformat())
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
