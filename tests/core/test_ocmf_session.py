"""Sessions on the signing simulators: the record is journaled before the meter may drop it,
bound to the session's close and carried in its report; failures and crashes are journaled too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from doubles import paths
from doubles.builders import Driver, at, card

from drivers.modbus.bus import DeviceLink, ModbusBus, RetryPolicy
from drivers.modbus.endpoint import SerialSettings, parse_port
from drivers.modbus_sim.model import ChargingModel
from drivers.modbus_sim.server import SimServer
from drivers.modbus_sim.signing import SimulatedSigningMeter, signing_meter
from drivers.ocmf_meter.protocol import build_signer
from drivers.ocmf_meter.signing_map import load_signing_map, signing_models
from kiosk.journal.store import Journal
from kiosk.ocmf import parse_ocmf
from kiosk.ocmf.billing import Flag
from kiosk.ocmf.crypto import verify
from kiosk.ocmf.session import SignedMetering
from kiosk.session import events as ev
from kiosk.session.machine import step

ROOT = Path(__file__).parents[2]
# No test here waits for a timeout: a generous one only keeps a busy machine from failing a read.
FAST = RetryPolicy(attempts=2, backoff_s=0.01, timeout_s=10.0)
TT = "0,49 EUR/kWh, 0,10 EUR/min ab 4 h"
EVSE = "DE*EVK*E0001*1"


class Meter:
    def __init__(self, model_name: str) -> None:
        self.name = model_name
        self.model = ChargingModel()
        self.sim: SimulatedSigningMeter = signing_meter(model_name, self.model)
        self.server = SimServer([self.sim], "tcp")
        self.bus = ModbusBus(parse_port(self.server.url), SerialSettings(), policy=FAST)

    def metering(self, journal: Journal) -> SignedMetering:
        link = DeviceLink(self.bus, self.sim.unit)
        signer = build_signer(link, load_signing_map(self.name), sleep=lambda _: None)
        return SignedMetering(signer, journal, connector_id="1", charge_point_id=EVSE)

    def close(self) -> None:
        self.bus.close()
        self.server.close()


@pytest.fixture(params=signing_models())
def meter(request: pytest.FixtureRequest) -> Iterator[Meter]:
    m = Meter(str(request.param))
    yield m
    m.close()


def settling_journal(tmp_path: Path) -> tuple[Journal, Driver]:
    journal = Journal.open(tmp_path / "j.db")

    class Recording(Driver):
        def __call__(self, event: ev.Event) -> tuple:  # type: ignore[type-arg]
            before = self.st
            commands = Driver.__call__(self, event)
            journal.record_step(event, before, self.st, commands)
            return commands

    d = Recording()
    paths.settling(d)
    return journal, d


def close_session(journal: Journal, d: Driver) -> dict[str, object]:
    before = d.st
    event = ev.SettleDone(at(12), paths.SID, card(amount=306))
    after, commands = step(before, event)
    journal.record_step(event, before, after, commands)
    (record,) = journal.outbox_pending()
    return dict(json.loads(record.payload_json))


def rows(journal: Journal) -> list[tuple[object, ...]]:
    return journal.query(
        "SELECT session_id, pagination, record IS NOT NULL, signed, energy_wh, flags_json, "
        "closed_at IS NOT NULL FROM ocmf_records ORDER BY id"
    )


def test_the_signed_record_is_journaled_and_carried_in_the_session_report(
    tmp_path: Path, meter: Meter
) -> None:
    journal, d = settling_journal(tmp_path)
    metering = meter.metering(journal)
    metering.begin(paths.SID, TT)
    meter.model.import_wh += 4_567
    bill = metering.finish(paths.SID, TT)
    assert bill.signed and bill.energy_wh == 4_567 and bill.flags == ()
    assert rows(journal) == [(paths.SID, "T1", 1, 1, 4_567, "[]", 0)]

    report = close_session(journal, d)
    (carried,) = report["ocmf"]  # type: ignore[misc]
    assert carried["energy_wh"] == 4_567 and carried["signed"] is True
    assert carried["public_key"] == meter.sim.public_key
    record = parse_ocmf(carried["record"])
    assert verify(record, meter.sim.public_key)  # against the simulator's own key
    assert record.tariff_text == TT
    assert rows(journal)[0][-1] == 1  # bound by the close
    journal.close()


def test_a_failing_end_is_journaled_as_no_record_and_billed_by_the_rule(
    tmp_path: Path, meter: Meter
) -> None:
    journal, d = settling_journal(tmp_path)
    metering = meter.metering(journal)
    metering.begin(paths.SID, TT)
    meter.model.import_wh += 1_000
    meter.sim.inject_signing("stop_fails")
    bill = metering.finish(paths.SID, TT)
    assert (bill.signed, bill.energy_wh, bill.flags) == (False, 0, (Flag.NO_RECORD,))
    assert "no_energy_charge" in bill.detail and "end failed" in bill.detail
    report = close_session(journal, d)
    (carried,) = report["ocmf"]  # type: ignore[misc]
    assert carried["record"] is None and carried["flags"] == ["no_record"]
    journal.close()


def test_a_bad_signature_is_flagged_and_not_billed(tmp_path: Path, meter: Meter) -> None:
    journal, _ = settling_journal(tmp_path)
    metering = meter.metering(journal)
    metering.begin(paths.SID, TT)
    meter.model.import_wh += 1_000
    meter.sim.inject_signing("bad_signature")
    bill = metering.finish(paths.SID, TT)
    assert (bill.signed, bill.energy_wh, bill.flags) == (False, 0, (Flag.INVALID_SIGNATURE,))
    assert rows(journal)[0][2] == 1  # the record is kept all the same: gap-free storage
    journal.close()


def test_a_tariff_text_other_than_the_shown_one_is_flagged(tmp_path: Path, meter: Meter) -> None:
    journal, _ = settling_journal(tmp_path)
    metering = meter.metering(journal)
    metering.begin(paths.SID, "0,39 EUR/kWh")
    bill = metering.finish(paths.SID, TT)
    assert bill.flags == (Flag.TARIFF_TEXT_DIFFERS,) and bill.energy_wh == 0
    journal.close()


def test_a_meter_restart_mid_session_still_bills_signed_energy(
    tmp_path: Path, meter: Meter
) -> None:
    journal, _ = settling_journal(tmp_path)
    metering = meter.metering(journal)
    metering.begin(paths.SID, TT)
    meter.model.import_wh += 700
    meter.sim.restart()
    meter.model.import_wh += 300
    bill = metering.finish(paths.SID, TT)
    assert bill.signed and bill.energy_wh == 1_000
    journal.close()


KIOSK = """
import os, signal, sys
from drivers.modbus.bus import DeviceLink, ModbusBus, RetryPolicy
from drivers.modbus.endpoint import SerialSettings, parse_port
from drivers.ocmf_meter.protocol import build_signer
from drivers.ocmf_meter.signing_map import load_signing_map
from kiosk.journal.store import Journal
from kiosk.ocmf.session import SignedMetering

url, unit, model, journal_path, step = sys.argv[1:]
bus = ModbusBus(parse_port(url), SerialSettings(), policy=RetryPolicy(2, 0.01, 0.5))
signer = build_signer(DeviceLink(bus, int(unit)), load_signing_map(model), sleep=lambda _: None)
metering = SignedMetering(signer, Journal.open(journal_path), connector_id="1",
                          charge_point_id="DE*EVK*E0001*1")
metering.begin("S-killed", "0,49 EUR/kWh")
if step == "after_end":
    signer.end_transaction("S-killed")
print("ready", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("when", ["after_end", "while_running"])
def test_a_kiosk_killed_mid_stop_collects_the_record_at_start_up(
    tmp_path: Path, meter: Meter, when: str
) -> None:
    """kill -9 between the end command and reading the record, or with the transaction open:
    the meter outlives the kiosk, and the restarted kiosk journals the record."""
    journal_path = tmp_path / "j.db"
    Journal.open(journal_path).close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [meter.server.url, str(meter.sim.unit), meter.name, str(journal_path), when]
    done = subprocess.run(
        [sys.executable, "-c", KIOSK, *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert done.stdout.strip() == "ready"
    meter.model.import_wh += 250 if when == "while_running" else 0

    journal = Journal.open(journal_path)
    assert rows(journal) == []  # nothing was read before the kill
    bill = meter.metering(journal).recover()
    assert bill is not None and bill.signed
    assert rows(journal)[0][:4] == ("S-killed", "T1", 1, 1)
    assert verify(parse_ocmf(str(bill.record.text)), meter.sim.public_key)  # type: ignore[union-attr]
    assert bill.energy_wh == (250 if when == "while_running" else 0)
    # Collected once: a second start-up stores nothing new and the meter takes a new session.
    metering = meter.metering(journal)
    metering.recover()
    assert len(rows(journal)) == 1
    metering.begin("S-next", TT)
    journal.close()


def test_energy_is_end_minus_begin_exactly(tmp_path: Path, meter: Meter) -> None:
    journal, _ = settling_journal(tmp_path)
    metering = meter.metering(journal)
    meter.model.import_wh = 99_999_999.0
    metering.begin(paths.SID, TT)
    meter.model.import_wh += 1
    bill = metering.finish(paths.SID, TT)
    assert bill.energy_wh == 1
    assert bill.record is not None
    assert bill.record.readings[-1].value == Decimal("100000.000")
    journal.close()


def test_card_session_on_a_signing_meter_reaches_the_backend_verified(
    tmp_path: Path, meter: Meter
) -> None:
    """Meter simulator → kiosk journal → session report → real backend over HTTP: the stored
    record verifies against the simulator's key, is on the receipt, reconciles clean, and a
    digit changed in the backend's database is caught."""
    from datetime import date

    from sqlalchemy import update

    from backend import reconcile
    from backend.models import OcmfStored
    from drivers.backend_client.wire import report_request
    from tests.backend.conftest import start_backend

    journal, d = settling_journal(tmp_path)
    metering = meter.metering(journal)
    metering.begin(paths.SID, TT)
    meter.model.import_wh += 500  # what the session's readings book (1000 → 1500 Wh)
    assert metering.finish(paths.SID, TT).energy_wh == 500
    closed = close_session(journal, d)
    assert closed["meter_end_wh"] - closed["meter_start_wh"] == 500  # type: ignore[operator]
    # The machine doubles carry a stub tariff; the backend prices with a real one.
    closed["tariff"] = (ROOT / "assets" / "samples" / "tariff.json").read_text(encoding="utf-8")
    path, body = report_request("session", closed, "Europe/Berlin")
    journal.close()

    server, b = start_backend(f"sqlite:///{tmp_path / 'backend.db'}")
    with server:
        try:
            with b.station("ST") as st:
                r = st.post(
                    f"/api/v1{path}", content=body, headers={"Content-Type": "application/json"}
                )
                assert r.status_code == 201, r.text
            with b.svc.db.read() as s:
                (row,) = s.query(OcmfStored).all()
                assert row.public_key == meter.sim.public_key
                assert (row.verified, row.problems, row.signed_energy_wh) == (True, "", 500)
            day = date(2026, 3, 1)
            rep = reconcile.reconcile(b.svc.db, b.svc.settings, day, day)
            found = [x.cls for row in rep.rows for x in row.discrepancies]
            assert not [c for c in found if c.startswith("ocmf")], found
            with b.client() as c:
                page = c.get(r.json()["receipt_url"].removeprefix(b.url)).text
            assert meter.sim.public_key in page and "How to check this bill" in page
            with b.svc.db.session() as s:
                text = s.query(OcmfStored).one().record
                s.execute(update(OcmfStored).values(record=text.replace('PG":"T1', 'PG":"T2')))
            rep = reconcile.reconcile(b.svc.db, b.svc.settings, day, day)
            assert "ocmf_invalid" in [x.cls for row in rep.rows for x in row.discrepancies]
        finally:
            b.svc.close()
