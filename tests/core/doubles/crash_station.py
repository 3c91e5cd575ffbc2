"""A station process for crash drills: `python crash_station.py DIR MODE KILL_AFTER`.

MODE "run" drives three sessions (card, charged; card, released at the plug-in timeout;
QR, charged) and MODE "recover" only starts (recovery runs) and lets time pass until nothing is
open. With KILL_AFTER = n > 0 the process SIGKILLs itself right after the journal's n-th commit;
with KILL_AFTER = "preauth:n" or "settle:n" it dies when the bank has done the n-th of those and
before the answer reached the kiosk.
Everything the test checks afterwards is on disk: the journal and the device files in DIR.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from doubles.builders import T0
from doubles.rig import Rig
from kiosk.runtime.clock import FakeClock
from kiosk.snapshot import (
    BackToStart,
    ChooseConnector,
    ConfirmPrice,
    PayByCard,
    PayByQr,
    Phase,
    StopCharging,
)


def main() -> int:
    state, mode, kill = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    kill_after = int(kill) if kill.isdigit() else 0
    clock_file = state / "clock.txt"
    start = datetime.fromisoformat(clock_file.read_text()) if clock_file.exists() else T0
    clock = FakeClock(start)
    rig = Rig(state, connectors=("1", "2"), clock=clock)

    def after_commit() -> None:
        if rig.journal.commits == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    rig.journal.after_commit = after_commit
    if ":" in kill:  # "preauth:2": die inside the terminal, after the bank acted
        step, number = kill.split(":")
        rig.terminal.die_at(step, int(number))

    def advance(seconds: int, step: int = 1) -> None:
        rig.advance(seconds, step)
        clock_file.write_text(clock.now().isoformat())

    rig.start()
    if mode == "run":
        advance(2)
        rig.plants["1"].set(plugged=True)
        advance(2)
        rig.send(ChooseConnector("1"))
        sid = rig.snap.focus.session_id if rig.snap.focus else ""
        rig.send(ConfirmPrice(sid))
        rig.send(PayByCard(sid))
        advance(40, step=10)
        rig.send(StopCharging(sid))
        advance(3)
        rig.send(BackToStart(sid))
        rig.send(ChooseConnector("2"))
        sid2 = rig.snap.focus.session_id if rig.snap.focus else ""
        rig.send(ConfirmPrice(sid2))
        rig.send(PayByCard(sid2))
        advance(200, step=20)  # nobody plugs in: the hold is released
        rig.send(ChooseConnector("1"))  # the first vehicle is still plugged: pay by QR
        sid3 = rig.snap.focus.session_id if rig.snap.focus else ""
        rig.send(ConfirmPrice(sid3))
        rig.send(PayByQr(sid3))
        for link_id, link in rig.backend.links().items():
            if link["status"] == "pending":
                rig.backend.pay(link_id)  # the phone pays
        advance(40, step=10)
        rig.send(StopCharging(sid3))
        advance(3)
    else:
        advance(30, step=5)  # a resumed session charges on until the driver unplugs
        for plant in rig.plants.values():
            plant.set(plugged=False)
        for _ in range(120):
            if not rig.journal.open_sessions() and all(
                s.phase in (Phase.RECEIPT, Phase.FAILED) for s in rig.rt.station.sessions
            ):
                break
            advance(10, step=5)
    print(json.dumps({"commits": rig.journal.commits, "open": len(rig.journal.open_sessions())}))
    rig.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
