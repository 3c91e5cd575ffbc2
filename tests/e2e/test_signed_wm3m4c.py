"""A card session on an Iskra WM3M4C end to end. The meter and its charge controller are
`evkiosk sim meter --signing wm3m4c` in a process of their own, reached over Modbus TCP as a
real station's would be (the kiosk's config says `hardware = "real"`). The charging screen
shows the meter's live values (the WM3M4C live map); the session is booked from the signed
record, which the backend keeps and which verifies against the public key the simulator
printed (the kiosk's verifier and pyocmf). Its own module: a fresh backend process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from drivers.modbus.bus import BusRegistry
from drivers.modbus.factory import build_meter
from drivers.modbus_sim.process import SimProcess
from drivers.modbus_sim.signing import private_key_pem
from drivers.station import BackendAccess, assemble_station
from kiosk.config import load_config
from kiosk.ocmf import parse_ocmf
from kiosk.ocmf.check import signed_energy_wh
from kiosk.ocmf.crypto import public_key_hex, verify
from kiosk.runtime.clock import FakeClock
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart, ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.rig import STATION_ID, STATION_TOML, BackendProcess, Kiosk, now_utc, tariff
from tests.e2e.signed_rig import (
    backend_records,
    delivered,
    independently_verified,
    ocmf_rows,
    session_state,
)

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"

EVSE = "DE*EVK*E0001*1"
WM3M4C = """[meters.left]
hardware = "real"
model = "wm3m4c"
signing = "wm3m4c"
evse_id = "{evse}"
port = "{meter}"
unit = {meter_unit}

[controllers.left]
hardware = "real"
model = "phoenix-ev-eth"
port = "{controller}"
unit = {controller_unit}
"""


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[SimProcess, str]]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "meter.pem"
    pem.write_bytes(private_key_pem(key))
    args = ("--signing", "wm3m4c", "--key", str(pem), "--with-charger", "phoenix-ev-eth")
    # Ten simulated seconds a second: energy however fast the run; the meter's clock runs so too
    with SimProcess("meter", *args, "--speed", "10") as process:
        yield process, public_key_hex(key.public_key())


def station_toml(ready: dict[str, dict[str, object]]) -> str:
    toml = STATION_TOML.format(hold=5000, station=STATION_ID, timeout=60.0)
    devices = toml[toml.index("[meters.left]") : toml.index("[[connector]]")]
    meter, controller = ready["meter"], ready["controller"]
    return toml.replace(
        devices,
        WM3M4C.format(
            evse=EVSE,
            meter=meter["port"],
            meter_unit=meter["unit"],
            controller=controller["port"],
            controller_unit=controller["unit"],
        )
        + "\n",
    )


def test_card_session_on_a_wm3m4c_is_booked_from_its_signed_record(
    backend: BackendProcess, access: BackendAccess, workdir: Path, sim: tuple[SimProcess, str]
) -> None:
    process, public_key = sim
    assert process.ready["meter"]["public_key"] == public_key  # what the meter publishes
    workdir.mkdir(parents=True)
    (workdir / "tariff.json").write_text(json.dumps(tariff()))
    (workdir / "station.toml").write_text(station_toml(process.ready))
    clock = FakeClock(now_utc())
    station = assemble_station(
        load_config(workdir / "station.toml"),
        simulate=False,
        state_dir=workdir / "state",
        clock=clock,
        backend=access,
    )
    k = Kiosk(station, clock)
    station.start()
    try:
        k.idle()
        assert process.command("plug 0.3") == "ok"
        k.advance(2)
        (shown,) = k.snap.signing_meters
        assert shown.model == "wm3m4c" and shown.signing and shown.public_key == public_key
        k.send(ChooseConnector("1"))
        sid = k.focus_id()
        k.send(ConfirmPrice(sid))
        k.send(PayByCard(sid))
        k.advance(60, step=10)
        for _ in range(60):  # the car draws in the simulator's time: until it has counted
            focus = k.snap.focus
            assert focus is not None and focus.phase is Phase.CHARGING, focus
            live = focus.live
            if live is not None and live.energy_wh > 100:
                break
            k.advance(10, step=10)
        assert live is not None and live.power_w is not None and live.power_w > 1000
        k.send(StopCharging(sid))
        k.advance(5)
        focus = k.snap.focus
        assert focus is not None and focus.phase is Phase.RECEIPT, focus
        receipt = focus.receipt
        assert receipt is not None
        (row,) = ocmf_rows(k, sid)
        text = row[0]
        record = parse_ocmf(text)
        assert verify(record, public_key)  # the simulator's key, not one the kiosk was told
        assert record.charge_point == EVSE and record.readings[0].time_sync == "I"
        assert record.tariff_text == k.station.runtime.signed.tariff_text(session_state(k, sid))
        assert json.loads(process.command("records")) == [text.split("|")[1]]
        signed = int(signed_energy_wh(record))
        state = session_state(k, sid)
        assert state.signed is not None and state.signed.signed
        assert state.energy_wh == receipt.energy_wh == signed > 100
        assert state.settlement is not None
        assert state.settlement.final_minor == receipt.total.minor == round(signed * 50 / 1000)
        k.send(BackToStart(sid))
        delivered(k)
        day = k.clock.now()
    finally:
        station.stop()
    (kept,) = backend_records(backend, sid)
    assert kept["record"] == text and kept["verified"] and kept["public_key"] == public_key
    independently_verified(kept["record"], public_key)
    assert backend.reconciliation(day)["clean"] is True


def test_the_wm3m4c_sample_station_runs_with_signing_meters(
    access: BackendAccess, tmp_path: Path
) -> None:
    config = load_config(SAMPLES / "station-wm3m4c.toml")
    assert {m.model for m in config.meters.values()} == {"wm3m4c"}
    clock = FakeClock(now_utc())
    station = assemble_station(
        config, simulate=True, state_dir=tmp_path / "state", clock=clock, backend=access
    )
    k = Kiosk(station, clock)
    station.start()
    try:
        k.idle()
        k.advance(2)
        meters = k.snap.signing_meters
        assert [m.connector_id for m in meters] == ["1", "2"]
        assert all(m.model == "wm3m4c" and m.signing and m.public_key for m in meters), meters
        assert all(m.problem is None for m in meters), meters
        registry = BusRegistry()  # a second master on each simulator's TCP port
        try:
            for cid, sim in station.sims.items():  # live values through the WM3M4C map
                assert sim.meter is not None
                settings = {"port": sim.meter_port, "unit": sim.meter.unit}
                reading = build_meter(cid, "wm3m4c", settings, registry).read()
                assert reading.energy_import_wh > 0 and reading.frequency_hz == pytest.approx(50)
        finally:
            registry.close_all()
    finally:
        station.stop()
