"""A kiosk process for the signing-meter crash drill:
`signed_kill_station.py DIR TERMINAL METER CONTROLLER MODE`.

Terminal, signing meter (EM580) and controller are simulators in the test's process, so they
outlive this one as real devices do. MODE "run" drives one card session to Stop and SIGKILLs
itself right after the meter accepted the end of the signed transaction, before the record is
read. MODE "recover" starts on the same state (recovery runs) and lets time pass until nothing
is open. The session id goes to DIR/session.txt.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drivers.ocmf_meter.protocol import Em580Signer
from drivers.station import assemble_station
from kiosk.config import load_config
from kiosk.session.names import Phase
from kiosk.snapshot import PayByCard, StopCharging
from tests.e2e.drill_station import (
    SavedClock,
    close_all,
    kill_self,
    pay,
    started,
    write_real_terminal_station,
)
from tests.e2e.rig import Kiosk

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EVSE = "DE*EVK*E0001*1"

DEVICES_TOML = """
[meters.left]
hardware = "real"
model = "em580"
port = "{meter}"
unit = 1
signing = "em580"
evse_id = "{evse}"

[controllers.left]
hardware = "real"
model = "phoenix-ev-eth"
port = "{controller}"
unit = {controller_unit}
"""


def run(k: Kiosk, state: Path) -> None:
    sid = pay(k, PayByCard, note=state / "session.txt")
    k.advance(120, step=10)
    # The simulated car draws in real time: on a busy machine the station's clock can run
    # ahead of it, so charge on until the meter has counted energy (the test needs > 0 Wh).
    for _ in range(60):
        focus = k.snap.focus
        assert focus is not None and focus.phase is Phase.CHARGING, focus
        if focus.live is not None and focus.live.energy_wh > 0:
            break
        k.advance(10, step=10)
    k.send(StopCharging(sid))
    k.advance(10)
    raise AssertionError("the record was read: the drill's kill point was not reached")


def recover(k: Kiosk) -> None:
    leave = (Phase.RECEIPT, Phase.FAILED)
    if not close_all(k, rounds=60, leave=leave, stop_charging=False):
        raise AssertionError(f"still open: {k.station.runtime.journal.open_sessions()}")


def main() -> int:
    state, terminal, meter, controller, unit, mode = sys.argv[1:7]
    work = Path(state)
    devices = DEVICES_TOML.format(
        meter=meter, controller=controller, controller_unit=unit, evse=EVSE
    )
    toml = write_real_terminal_station(work, terminal, devices)
    saved = SavedClock(work, START)
    if mode == "run":

        def killed(self: Em580Signer, transaction_id: str | None) -> str:
            saved.save()
            kill_self()  # the end is signed; the record never read
            raise AssertionError("unreachable")

        Em580Signer.read_record = killed  # type: ignore[method-assign]
    station = assemble_station(load_config(toml), simulate=False, state_dir=work, clock=saved.clock)
    with started(station, saved.clock) as k:
        if mode == "run":
            run(k, work)
        else:
            recover(k)
        saved.save()
    print(json.dumps({"commits": station.runtime.journal.commits}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
