"""kill -9 between the end of the signed transaction and the reading of its record: the
meter keeps the record, the next start collects and journals it, and the session is booked
once, from the signed energy. Terminal, signing meter and controller are simulators in this
process (they outlive the kiosk, as real devices do); the kiosk runs in a child process."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drivers.charger.controller_map import controller_spec
from drivers.modbus.registermap import load_map
from drivers.modbus_sim.devices import SimulatedController
from drivers.modbus_sim.model import ChargingModel
from drivers.modbus_sim.server import SimServer
from drivers.modbus_sim.signing import SimulatedSigningMeter, signing_meter
from drivers.zvt_sim import Delays, TerminalSimulator
from kiosk.journal.codec import loads
from kiosk.ocmf import parse_ocmf
from kiosk.ocmf.check import signed_energy_wh
from kiosk.session.model import Session

pytestmark = pytest.mark.slow

STATION = Path(__file__).parent / "signed_kill_station.py"


@dataclass
class Devices:
    terminal: TerminalSimulator
    meter: SimulatedSigningMeter
    meter_url: str
    controller_url: str
    controller_unit: int


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Devices]:
    model = ChargingModel(speed=60.0)  # a minute a second: energy however fast the run
    meter = signing_meter("em580", model)
    spec = controller_spec(load_map("phoenix-ev-eth"))
    controller = SimulatedController(spec, model, spec.regmap.comms.unit)
    servers = [SimServer([meter], "tcp"), SimServer([controller], "tcp")]
    terminal = TerminalSimulator.start_tcp(
        state_file=tmp_path / "terminal.json", delays=Delays.zero()
    )
    model.plug_in(0.3)
    try:
        yield Devices(terminal, meter, servers[0].url, servers[1].url, controller.unit)
    finally:
        terminal.stop()
        for server in servers:
            server.close()


def kiosk(work: Path, d: Devices, mode: str) -> subprocess.CompletedProcess[str]:
    args = [d.terminal.address, d.meter_url, d.controller_url, str(d.controller_unit), mode]
    return subprocess.run(
        [sys.executable, str(STATION), str(work), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_kill_between_stop_and_reading_the_record_is_billed_once_from_it(
    tmp_path: Path, devices: Devices
) -> None:
    work = tmp_path / "kiosk"
    died = kiosk(work, devices, "run")
    assert died.returncode == -signal.SIGKILL, died.stderr[-3000:]
    assert devices.meter.state == "ready"  # signed, kept by the meter, not read
    (text,) = devices.meter.records
    signed = int(signed_energy_wh(parse_ocmf(text)))
    sid = (work / "session.txt").read_text()

    back = kiosk(work, devices, "recover")
    assert back.returncode == 0, back.stderr[-3000:]
    assert devices.meter.state == "idle"  # read and confirmed once journaled
    with sqlite3.connect(work / "journal.db") as db:
        records = db.execute(
            "SELECT record, signed, energy_wh, closed_at FROM ocmf_records WHERE session_id = ?",
            (sid,),
        ).fetchall()
        (state_json,) = db.execute(
            "SELECT state_json FROM sessions WHERE session_id = ?", (sid,)
        ).fetchone()
        settles = db.execute(
            "SELECT amount_minor, outcome FROM card_results WHERE session_id = ? "
            "AND kind = 'settle'",
            (sid,),
        ).fetchall()
        reports = db.execute(
            "SELECT COUNT(*) FROM outbox WHERE idempotency_key = ?", (f"session:{sid}",)
        ).fetchone()
    assert records == [(text, 1, signed, records[0][3])] and records[0][3] is not None
    session = loads(Session, state_json)
    assert session.closed and session.signed is not None and session.signed.signed
    assert session.energy_wh == signed > 0
    assert session.settlement is not None
    booked = session.settlement.final_minor
    assert booked == min(round(signed * 50 / 1000), 3000)
    assert settles == [(booked, "approved")]  # booked once, for the signed energy
    assert reports == (1,)
