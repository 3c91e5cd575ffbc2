"""What the kiosk processes of the crash drills share (zvt_kill_station.py,
signed_kill_station.py, qr_station.py, ocpp_station.py): the clock kept on disk so a restarted
kiosk goes on where the killed one stopped, a one-connector station file, the power cut after
the journal's n-th commit, paying for a session and closing whatever is still open."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from drivers.station import HeadlessStation
from kiosk.runtime.clock import FakeClock
from kiosk.session.names import Phase
from kiosk.snapshot import (
    BackToStart,
    ChooseConnector,
    ConfirmPrice,
    PayByCard,
    PayByQr,
    StopCharging,
)
from tests.e2e.rig import CONNECTOR_TOML, Kiosk, tariff

# What a simulated station imports only when it is assembled and run (simulators, pymodbus,
# httpx): a drill's zygote (tests/killdrill.py) imports them once, not every kiosk process.
SIMULATED_STATION_MODULES = (
    "drivers.backend_client",
    "drivers.modbus_sim",
    "drivers.modbus_sim.server",
    "drivers.zvt_sim",
    "kiosk.outbox.periods",
    "pymodbus.client",
    "pymodbus.exceptions",
    "pymodbus.framer",
)

# A kiosk with a real ZVT terminal at {terminal}; the meter and controller sections follow.
REAL_TERMINAL_TOML = """
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
"""


class SavedClock:
    """The drill's hand-moved clock, kept in DIR/clock.txt between the killed run and the next."""

    def __init__(self, state: Path, start: datetime) -> None:
        self.path = state / "clock.txt"
        at = datetime.fromisoformat(self.path.read_text()) if self.path.exists() else start
        self.clock = FakeClock(at)

    def save(self) -> None:
        self.path.write_text(self.clock.now().isoformat())


def kill_self() -> None:
    """SIGKILL: the power cut, with no chance to clean up."""
    os.kill(os.getpid(), signal.SIGKILL)


def write_real_terminal_station(state: Path, terminal: str, devices_toml: str) -> Path:
    """DIR/station.toml (real terminal, `devices_toml`, connector 1) and its tariff, 0.50/kWh."""
    state.mkdir(parents=True, exist_ok=True)
    (state / "tariff.json").write_text(json.dumps(tariff("0.50")))
    path = state / "station.toml"
    path.write_text(REAL_TERMINAL_TOML.format(terminal=terminal) + devices_toml + CONNECTOR_TOML)
    return path


@contextmanager
def started(station: HeadlessStation, clock: FakeClock) -> Iterator[Kiosk]:
    """The station started and settled, two seconds on; stopped on the way out."""
    k = Kiosk(station, clock)
    station.start()
    k.idle()
    try:
        k.advance(2)
        yield k
    finally:
        station.stop()


def cut_power_after(saved: SavedClock, kill_after: int) -> Callable[[Kiosk], None]:
    """A `before_start` for a kiosk back from a power cut (the car still plugged in, the meter
    counted on) that SIGKILLs itself right after the journal's `kill_after`-th commit."""

    def prepare(k: Kiosk) -> None:
        journal = k.station.runtime.journal
        sim = k.station.sims["1"]
        (last,) = journal.query("SELECT COALESCE(MAX(energy_wh), 0) FROM readings")[0]
        sim.model.import_wh = max(sim.model.import_wh, float(last))  # the meter kept counting
        sim.plug_in(soc=0.3)  # the car is still there

        def after_commit() -> None:
            saved.save()
            if journal.commits == kill_after:
                kill_self()

        journal.after_commit = after_commit

    return prepare


def pay(k: Kiosk, method: type[PayByCard | PayByQr], note: Path | None = None) -> str:
    """Choose connector 1, confirm the price and pay: the session's id, first written to `note`
    (the drill may die while paying)."""
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    if note is not None:
        note.write_text(sid)
    k.send(ConfirmPrice(sid))
    k.send(method(sid))
    return sid


def stop_and_leave(k: Kiosk, sid: str, settle_s: float = 5) -> None:
    """Stop charging, then leave the receipt."""
    k.send(StopCharging(sid))
    k.advance(5)
    k.send(BackToStart(sid))
    k.advance(settle_s)


def nothing_open(k: Kiosk) -> bool:
    return not k.station.runtime.journal.open_sessions()


def close_all(
    k: Kiosk,
    *,
    rounds: int,
    leave: tuple[Phase, ...],
    stop_charging: bool,
    done: Callable[[Kiosk], bool] = nothing_open,
) -> bool:
    """Let time pass (ten seconds a round) until `done`: leave every screen in a `leave` phase and,
    with `stop_charging`, stop every session still charging. False if `rounds` were not enough."""
    for _ in range(rounds):
        for view in (k.snap.focus, *k.snap.background):
            if view is None:
                continue
            if stop_charging and view.phase is Phase.CHARGING:
                k.send(StopCharging(view.session_id))
            elif view.phase in leave:
                k.send(BackToStart(view.session_id))
        if done(k):
            return True
        k.advance(10, step=5)
    return False
