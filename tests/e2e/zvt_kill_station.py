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
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drivers.station import assemble_station
from drivers.zvt.config import ZvtConfig
from kiosk.config import load_config
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart, PayByCard
from tests.e2e.drill_station import (
    REAL_TERMINAL_TOML,
    SavedClock,
    close_all,
    kill_self,
    pay,
    started,
    stop_and_leave,
    write_real_terminal_station,
)
from tests.e2e.rig import CONNECTOR_TOML, SIMULATED_DEVICES_TOML, Kiosk

COMMANDS = {"preauth": "06 22", "book": "06 24", "partial": "06 23", "reversal": "06 25"}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# The station (format with terminal=...), also that of zvt_refund_kill_station.py.
STATION_TOML = REAL_TERMINAL_TOML + SIMULATED_DEVICES_TOML + CONNECTOR_TOML


def run(k: Kiosk, step: str, state: Path) -> str:
    plug = step != "reversal"
    sim = k.station.sims["1"]
    if plug:
        sim.plug_in(soc=0.3)
        k.advance(2)
    sid = pay(k, PayByCard, note=state / "session.txt")
    if step == "preauth":
        return sid
    if plug:
        k.advance(120, step=10)
        stop_and_leave(k, sid, settle_s=2)
    else:
        k.advance(200, step=20)  # nobody plugs in: the hold is released
        k.send(BackToStart(sid))
        k.advance(2)
    return sid


def recover(k: Kiosk) -> None:
    """Let time pass, leaving receipts and failures, until nothing is open (at most 60 rounds)."""
    close_all(k, rounds=60, leave=(Phase.RECEIPT, Phase.FAILED), stop_charging=False)


def main() -> int:
    state, terminal, mode, step = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    kill_at = sys.argv[5] if len(sys.argv) > 5 else ""
    toml = write_real_terminal_station(state, terminal, SIMULATED_DEVICES_TOML)
    saved = SavedClock(state, START)
    mode_of_settling = "book_total" if step == "book" else "partial_reversal"

    def zvt(config: ZvtConfig) -> ZvtConfig:
        return replace(config, settle_mode=mode_of_settling)

    station = assemble_station(
        load_config(toml), simulate=False, state_dir=state, clock=saved.clock, zvt=zvt
    )
    target = COMMANDS[step]

    def boundary(name: str, command: str) -> None:
        saved.save()
        if name == kill_at and command == target:
            kill_self()

    assert station.terminal is not None
    station.terminal.boundary_hook = boundary  # type: ignore[attr-defined]
    with started(station, saved.clock) as k:
        if mode == "run":
            run(k, step, state)
        else:
            recover(k)
        saved.save()
        out = {"commits": station.runtime.journal.commits}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
