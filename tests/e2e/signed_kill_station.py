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
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drivers.ocmf_meter.protocol import Em580Signer
from drivers.station import assemble_station
from kiosk.config import load_config
from kiosk.runtime.clock import FakeClock
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart, ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.rig import Kiosk, tariff

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EVSE = "DE*EVK*E0001*1"

STATION_TOML = """
[station]
name = "Drill"
locales = ["en"]
timezone = "Europe/Berlin"
journal = "journal.db"

[payment]
hold_minor = 3000

[terminal]
hardware = "real"
model = "zvt"
port = "{terminal}"

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

[[connector]]
id = "1"
label = "Links"
type = "Type 2"
max_kw = 11
tariff = "tariff.json"
meter = "left"
controller = "left"
"""


def run(k: Kiosk, state: Path) -> None:
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    (state / "session.txt").write_text(sid)
    k.send(ConfirmPrice(sid))
    k.send(PayByCard(sid))
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
    journal = k.station.runtime.journal
    for _ in range(60):
        for view in (k.snap.focus, *k.snap.background):
            if view is not None and view.phase in (Phase.RECEIPT, Phase.FAILED):
                k.send(BackToStart(view.session_id))
        if not journal.open_sessions():
            return
        k.advance(10, step=5)
    raise AssertionError(f"still open: {journal.open_sessions()}")


def main() -> int:
    state, terminal, meter, controller, unit, mode = sys.argv[1:7]
    work = Path(state)
    work.mkdir(parents=True, exist_ok=True)
    (work / "tariff.json").write_text(json.dumps(tariff("0.50")))
    toml = STATION_TOML.format(
        terminal=terminal, meter=meter, controller=controller, controller_unit=unit, evse=EVSE
    )
    (work / "station.toml").write_text(toml)
    clock_file = work / "clock.txt"
    clock = FakeClock(
        datetime.fromisoformat(clock_file.read_text()) if clock_file.exists() else START
    )
    if mode == "run":

        def killed(self: Em580Signer, transaction_id: str | None) -> str:
            clock_file.write_text(clock.now().isoformat())
            os.kill(os.getpid(), signal.SIGKILL)  # the end is signed; the record never read
            raise AssertionError("unreachable")

        Em580Signer.read_record = killed  # type: ignore[method-assign]
    station = assemble_station(
        load_config(work / "station.toml"), simulate=False, state_dir=work, clock=clock
    )
    k = Kiosk(station, clock)
    station.start()
    k.idle()
    try:
        k.advance(2)
        if mode == "run":
            run(k, work)
        else:
            recover(k)
        clock_file.write_text(clock.now().isoformat())
    finally:
        station.stop()
    print(json.dumps({"commits": station.runtime.journal.commits}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
