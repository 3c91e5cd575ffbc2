"""Sessions on a signing meter (EM580 simulator) end to end: billed from the signed readings.

The kiosk begins the meter's signed transaction before charging, ends it after, journals the
record and books the cost of the signed energy; the backend stores the record and it verifies
against the simulator's key (the kiosk's own verifier and pyocmf); booked energy equals signed
energy in the journal, the terminal's booking and the backend. Also: the end of the signed
transaction fails (billed by the operator's rule, flagged), and the kiosk is killed between the
stop and the reading of the record (collected at restart, billed once)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from drivers.modbus_sim.signing import SimulatedSigningMeter
from drivers.station import BackendAccess, assemble_station
from kiosk.config import load_config
from kiosk.journal.codec import loads
from kiosk.ocmf import parse_ocmf
from kiosk.ocmf.check import signed_energy_wh
from kiosk.ocmf.crypto import verify
from kiosk.outbox.backoff import Backoff
from kiosk.runtime.clock import FakeClock
from kiosk.session.model import Session
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart, ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.rig import STATION_ID, STATION_TOML, BackendProcess, Kiosk, now_utc, tariff

EVSE = "DE*EVK*E0001*1"
SIGNING_METER = f'model = "em580"\nsigning = "em580"\nevse_id = "{EVSE}"'


@contextmanager
def signed_kiosk(
    workdir: Path, backend: BackendAccess, clock: FakeClock | None = None, hold: int = 5000
) -> Iterator[Kiosk]:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "tariff.json").write_text(json.dumps(tariff()))
    toml = STATION_TOML.format(hold=hold, station=STATION_ID, timeout=10.0)
    toml = toml.replace('model = "sdm630"', SIGNING_METER)
    (workdir / "station.toml").write_text(toml)
    config = load_config(workdir / "station.toml")
    clock = clock or FakeClock(now_utc())
    station = assemble_station(
        config,
        simulate=True,
        state_dir=workdir / "state",
        clock=clock,
        backend=backend,
        outbox_backoff=Backoff(timedelta(seconds=5), timedelta(minutes=30)),
    )
    k = Kiosk(station, clock)
    station.start()
    k.idle()
    try:
        yield k
    finally:
        station.stop()


def meter(k: Kiosk) -> SimulatedSigningMeter:
    sim = k.station.sims["1"].meter
    assert isinstance(sim, SimulatedSigningMeter)
    return sim


def charge_to_stop(k: Kiosk, seconds: int = 600) -> str:
    k.station.sims["1"].plug_in(soc=0.3)
    k.advance(2)
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    k.send(ConfirmPrice(sid))
    k.send(PayByCard(sid))
    k.advance(seconds, step=10)
    assert k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING
    k.send(StopCharging(sid))
    return sid


def session_state(k: Kiosk, sid: str) -> Session:
    (row,) = k.station.runtime.journal.query(
        "SELECT state_json FROM sessions WHERE session_id = ?", (sid,)
    )
    return loads(Session, row[0])


def ocmf_rows(k: Kiosk, sid: str) -> list[tuple[Any, ...]]:
    return k.station.runtime.journal.query(
        "SELECT record, public_key, signed, energy_wh, flags_json, closed_at FROM ocmf_records "
        "WHERE session_id = ?",
        (sid,),
    )


def test_card_session_is_booked_from_the_signed_energy(
    backend: BackendProcess, access: BackendAccess, workdir: Path
) -> None:
    with signed_kiosk(workdir, access) as k:
        sid = charge_to_stop(k)
        k.advance(5)
        focus = k.snap.focus
        assert focus is not None and focus.phase is Phase.RECEIPT, focus
        receipt = focus.receipt
        assert receipt is not None and receipt.total.minor > 0
        sim = meter(k)
        (text,) = sim.records
        record = parse_ocmf(text)
        assert verify(record, sim.public_key)
        signed = int(signed_energy_wh(record))
        assert signed > 0
        assert record.charge_point == EVSE
        assert record.tariff_text == k.station.runtime.signed.tariff_text(session_state(k, sid))
        (row,) = ocmf_rows(k, sid)
        assert row[0] == text and row[1] == sim.public_key and row[2] == 1 and row[3] == signed
        assert row[5] is not None  # bound at the session's close
        state = session_state(k, sid)
        assert state.signed is not None and state.signed.signed and state.energy_wh == signed
        assert receipt.energy_wh == signed
        booked = state.settlement
        assert booked is not None and booked.final_minor == receipt.total.minor
        # 0.50 EUR/kWh, step 1 Wh: the signed energy's cost, to the cent
        assert booked.final_minor == round(signed * 50 / 1000)
        (card,) = k.station.runtime.journal.query(
            "SELECT amount_minor FROM card_results WHERE session_id = ? AND kind = 'settle'",
            (sid,),
        )
        assert card[0] == booked.final_minor  # the terminal booked the signed amount
        k.send(BackToStart(sid))
        k.advance(2)
        day = k.clock.now()
    (stored,) = [s for s in backend.sessions() if s["session_id"] == sid]
    assert stored["meter_end_wh"] - stored["meter_start_wh"] == signed
    assert stored["reported_minor"] == stored["computed_minor"] == receipt.total.minor
    report = backend.reconciliation(day)
    assert report["clean"] is True, report


def test_a_failed_stop_is_billed_by_the_rule_and_flagged(
    backend: BackendProcess, access: BackendAccess, workdir: Path
) -> None:
    with signed_kiosk(workdir, access) as k:
        sid = charge_to_stop(k, seconds=300)
        meter(k).inject_signing("stop_fails")
        k.advance(5)
        focus = k.snap.focus
        assert focus is not None and focus.phase is Phase.FAILED, focus
        state = session_state(k, sid)
        assert state.signed is not None and not state.signed.signed
        assert "no_record" in state.signed.flags
        assert state.settlement is not None and state.settlement.final_minor == 0
        (row,) = ocmf_rows(k, sid)
        assert row[0] is None and json.loads(row[4]) == ["no_record"]
