"""A kiosk process for ZVT crash drills: `zvt_kill_station.py DIR TERMINAL MODE STEP [KILL_AT]`.

The kiosk talks real ZVT over TCP to TERMINAL (a terminal simulator in its own process, so it
outlives this one, as a real terminal does); meter and controller are pymodbus simulators.
STEP picks the money command the run ends with: "preauth" (06 22), "book" (06 24, settle mode
book_total), "partial" (06 23) or "reversal" (06 25, nobody plugs in).

MODE "run" drives one card session up to STEP; MODE "recover" starts on the same state
(recovery runs) and lets time pass until nothing is open. With KILL_AT (a boundary of
`drivers.zvt.protocol.BoundaryHook`, e.g. "result_stored") the process SIGKILLs itself at that
boundary of STEP's command, in either mode. The session id goes to DIR/session.txt; the
journal's commit count is printed as JSON.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drivers.station import assemble_station
from drivers.zvt.config import ZvtConfig
from kiosk.config import load_config
from kiosk.runtime.clock import FakeClock
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart, ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.rig import Kiosk, tariff

COMMANDS = {"preauth": "06 22", "book": "06 24", "partial": "06 23", "reversal": "06 25"}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

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
hardware = "simulated"
model = "sdm630"
port = "/dev/null"

[controllers.left]
hardware = "simulated"
model = "phoenix-ev-eth"
port = "/dev/null"

[[connector]]
id = "1"
label = "Links"
type = "Type 2"
max_kw = 11
tariff = "tariff.json"
meter = "left"
controller = "left"
"""


def run(k: Kiosk, step: str, state: Path) -> str:
    plug = step != "reversal"
    sim = k.station.sims["1"]
    if plug:
        sim.plug_in(soc=0.3)
        k.advance(2)
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    (state / "session.txt").write_text(sid)
    k.send(ConfirmPrice(sid))
    k.send(PayByCard(sid))
    if step == "preauth":
        return sid
    if plug:
        k.advance(120, step=10)
        k.send(StopCharging(sid))
        k.advance(5)
    else:
        k.advance(200, step=20)  # nobody plugs in: the hold is released
    k.send(BackToStart(sid))
    k.advance(2)
    return sid


def recover(k: Kiosk) -> None:
    journal = k.station.runtime.journal
    for _ in range(60):
        for view in (k.snap.focus, *k.snap.background):
            if view is not None and view.phase in (Phase.RECEIPT, Phase.FAILED):
                k.send(BackToStart(view.session_id))
        if not journal.open_sessions():
            return
        k.advance(10, step=5)


def main() -> int:
    state, terminal, mode, step = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    kill_at = sys.argv[5] if len(sys.argv) > 5 else ""
    state.mkdir(parents=True, exist_ok=True)
    (state / "tariff.json").write_text(json.dumps(tariff("0.50")))
    (state / "station.toml").write_text(STATION_TOML.format(terminal=terminal))
    clock_file = state / "clock.txt"
    clock = FakeClock(
        datetime.fromisoformat(clock_file.read_text()) if clock_file.exists() else START
    )
    mode_of_settling = "book_total" if step == "book" else "partial_reversal"

    def zvt(config: ZvtConfig) -> ZvtConfig:
        return replace(config, settle_mode=mode_of_settling)

    station = assemble_station(
        load_config(state / "station.toml"), simulate=False, state_dir=state, clock=clock, zvt=zvt
    )
    target = COMMANDS[step]

    def boundary(name: str, command: str) -> None:
        clock_file.write_text(clock.now().isoformat())
        if name == kill_at and command == target:
            os.kill(os.getpid(), signal.SIGKILL)

    assert station.terminal is not None
    station.terminal.boundary_hook = boundary  # type: ignore[attr-defined]
    k = Kiosk(station, clock)
    station.start()
    k.idle()
    try:
        k.advance(2)
        if mode == "run":
            run(k, step, state)
        else:
            recover(k)
        clock_file.write_text(clock.now().isoformat())
        out = {"commits": station.runtime.journal.commits}
    finally:
        station.stop()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
