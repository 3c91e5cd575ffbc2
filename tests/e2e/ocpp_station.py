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
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drivers.station import BackendAccess
from kiosk.session.names import Phase
from kiosk.snapshot import PayByCard
from tests.e2e.drill_station import (
    SavedClock,
    close_all,
    cut_power_after,
    kill_self,
    pay,
    stop_and_leave,
)
from tests.e2e.ocpp_rig import ocpp_kiosk
from tests.e2e.rig import Kiosk, now_utc


def run(k: Kiosk) -> None:
    sid = pay(k, PayByCard)
    k.advance(300, step=10)
    stop_and_leave(k, sid)


def charge_and_die(k: Kiosk) -> None:
    pay(k, PayByCard)
    k.advance(120, step=10)
    journal = k.station.runtime.journal
    deadline = time.monotonic() + 60
    while journal.csms_queued() and time.monotonic() < deadline:
        time.sleep(0.05)
    kill_self()


def main() -> int:
    workdir, csms_url, url, token, mode, kill = sys.argv[1:7]
    state = Path(workdir)
    saved = SavedClock(state, now_utc())
    versions = tuple(sys.argv[7].split(",")) if len(sys.argv) > 7 else ("2.1",)
    prepare = cut_power_after(saved, int(kill))
    access = BackendAccess(url, token)
    with ocpp_kiosk(
        state,
        access,
        csms_url,
        before_start=prepare,
        hold=5000,
        clock=saved.clock,
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
            close_all(k, rounds=120, leave=(Phase.RECEIPT,), stop_charging=True)
        journal = k.station.runtime.journal
        deadline = time.monotonic() + (0 if mode == "recover-offline" else 60)
        while journal.csms_queued() and time.monotonic() < deadline:
            time.sleep(0.05)
        out = {
            "commits": journal.commits,
            "open": len(journal.open_sessions()),
            "csms_queued": journal.csms_queued(),
        }
        saved.save()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
