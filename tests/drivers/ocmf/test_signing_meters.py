"""Signed transactions against the simulated EM580 and WM3M4C on real pymodbus servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from drivers.modbus.bus import DeviceLink, ModbusBus, RetryPolicy
from drivers.modbus.endpoint import SerialSettings, parse_port
from drivers.modbus_sim.model import ChargingModel
from drivers.modbus_sim.server import SimServer
from drivers.modbus_sim.signing import SimulatedSigningMeter, signing_meter
from drivers.ocmf_meter.protocol import build_signer
from drivers.ocmf_meter.signing_map import load_signing_map, signing_models
from kiosk.ocmf import parse_ocmf
from kiosk.ocmf.check import pagination_gaps, signed_energy_wh
from kiosk.ocmf.crypto import verify
from kiosk.ocmf.meter import SigningError, TransactionStart
from tests.evkiosk_cli import evkiosk

FAST = RetryPolicy(attempts=2, backoff_s=0.01, timeout_s=0.5)
TARIFF = "0,49 EUR/kWh inkl. MwSt., keine Standgebühr"


class Rig:
    def __init__(self, model_name: str, transport: str) -> None:
        self.model = ChargingModel()
        self.sim: SimulatedSigningMeter = signing_meter(model_name, self.model)
        self.server = SimServer([self.sim], transport)
        self.bus = ModbusBus(parse_port(self.server.url), SerialSettings(), policy=FAST)
        self.smap = load_signing_map(model_name)
        self.driver = self.new_driver()

    def new_driver(self):  # type: ignore[no-untyped-def]
        """A driver as a restarted kiosk builds it: no memory of earlier calls."""
        return build_signer(DeviceLink(self.bus, self.sim.unit), self.smap, sleep=lambda _: None)

    def charge(self, wh: int) -> None:
        self.model.import_wh += wh

    def close(self) -> None:
        self.bus.close()
        self.server.close()


@pytest.fixture(params=signing_models())
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    r = Rig(str(request.param), "tcp")
    yield r
    r.close()


def start(tx: str = "S-0001") -> TransactionStart:
    return TransactionStart(tx, "DE*EVK*E0001*1", TARIFF)


def session(rig: Rig, tx: str = "S-0001", wh: int = 7_321) -> str:
    rig.driver.start_transaction(start(tx))
    rig.charge(wh)
    rig.driver.end_transaction(tx)
    text = rig.driver.read_record(tx)
    rig.driver.confirm_read()
    return str(text)


def test_identity_shows_the_meters_public_key(rig: Rig) -> None:
    ident = rig.driver.identity()
    assert ident.signing
    assert ident.public_key == rig.sim.public_key
    assert ident.serial.startswith("SIM0000")


def test_a_signed_session_verifies_and_bills_end_minus_begin(rig: Rig) -> None:
    record = parse_ocmf(session(rig))
    assert verify(record, rig.sim.public_key)
    assert signed_energy_wh(record) == Decimal(7_321)
    assert record.tariff_text == TARIFF
    assert record.payload["ID"] == "S-0001"
    assert record.charge_point == "DE*EVK*E0001*1"


def test_pagination_is_continuous_over_sessions(rig: Rig) -> None:
    numbers = [parse_ocmf(session(rig, f"S-{i}")).pagination[1] for i in range(3)]
    assert numbers == [1, 2, 3]


def test_a_failing_end_is_reported_not_papered_over(rig: Rig) -> None:
    rig.driver.start_transaction(start())
    rig.sim.inject_signing("stop_fails")
    with pytest.raises(SigningError, match="end failed"):
        rig.driver.end_transaction("S-0001")


def test_a_bad_signature_is_caught_by_verification(rig: Rig) -> None:
    rig.sim.inject_signing("bad_signature")
    record = parse_ocmf(session(rig))
    assert not verify(record, rig.sim.public_key)


def test_a_skipped_transaction_number_shows_as_a_gap(rig: Rig) -> None:
    first = parse_ocmf(session(rig, "S-1")).pagination[1]
    rig.sim.inject_signing("pagination_gap")
    second = parse_ocmf(session(rig, "S-2")).pagination[1]
    assert pagination_gaps([first, second]) == [(first + 1, first + 1)]


def test_a_meter_restart_mid_session_still_yields_a_record_with_an_unsynced_end(rig: Rig) -> None:
    rig.driver.start_transaction(start())
    rig.charge(1_000)
    rig.sim.restart()
    rig.charge(500)
    rig.driver.end_transaction("S-0001")
    record = parse_ocmf(rig.driver.read_record("S-0001"))
    assert verify(record, rig.sim.public_key)
    assert signed_energy_wh(record) == Decimal(1_500)
    assert record.readings[-1].time_sync == "U"


def test_a_transaction_left_running_is_ended_at_start_up(rig: Rig) -> None:
    rig.driver.start_transaction(start("S-crashed"))
    rig.charge(2_000)
    restarted = rig.new_driver()  # the kiosk crashed and came back
    text = restarted.recover()
    assert text is not None
    record = parse_ocmf(text)
    assert record.payload["ID"] == "S-crashed"
    assert signed_energy_wh(record) == Decimal(2_000)
    restarted.confirm_read()
    restarted.start_transaction(start("S-next"))  # the meter is free again


def test_a_record_not_read_before_a_crash_is_collected_at_start_up(rig: Rig) -> None:
    rig.driver.start_transaction(start("S-killed"))
    rig.charge(3_000)
    rig.driver.end_transaction("S-killed")  # killed here, before reading the record
    text = rig.new_driver().recover()
    assert text is not None
    assert parse_ocmf(text).payload["ID"] == "S-killed"
    assert verify(parse_ocmf(text), rig.sim.public_key)


def test_a_new_transaction_is_refused_while_an_unread_record_waits(rig: Rig) -> None:
    if rig.smap.protocol == "iskra":
        pytest.skip("the WM3M4C keeps its last record until the next begin: nothing to lose")
    rig.driver.start_transaction(start("S-1"))
    rig.driver.end_transaction("S-1")
    with pytest.raises(SigningError, match="recover first"):
        rig.driver.start_transaction(start("S-2"))


def test_a_record_of_another_transaction_is_refused(rig: Rig) -> None:
    rig.driver.start_transaction(start("S-1"))
    rig.driver.end_transaction("S-1")
    with pytest.raises(SigningError, match="not 'S-2'"):
        rig.driver.read_record("S-2")


@pytest.mark.parametrize("bad", ["x" * 251, "a|b"])
def test_tariff_text_ocmf_cannot_carry_is_refused(rig: Rig, bad: str) -> None:
    with pytest.raises(SigningError):
        rig.driver.start_transaction(TransactionStart("S-1", "DE*EVK*E0001*1", bad))


@pytest.mark.parametrize("transport", ["rtu-tcp", "pty"])
def test_the_em580_signs_over_rtu_as_well(transport: str) -> None:
    r = Rig("em580", transport)
    try:
        assert verify(parse_ocmf(session(r)), r.sim.public_key)
    finally:
        r.close()


def test_signing_maps_name_the_field_at_fault() -> None:
    from drivers.modbus.registermap import MapError
    from drivers.ocmf_meter.signing_map import parse_signing_map

    with pytest.raises(MapError, match=r"registers\.state\.address"):
        parse_signing_map(
            {
                "protocol": "em580",
                "read_function": 4,
                "max_read": 125,
                "max_write": 123,
                "comms": {"unit": 1, "timeout_ms": 500, "gap_ms": 0},
                "codes": {"state": {}},
                "registers": {"state": {"address": -1}},
            },
            "mine.json",
        )


IDENTITY = ["meter", "ocmf-identity"]  # through the CLI's main(argv), in this process


def test_the_cli_shows_public_key_signing_status_and_firmware(rig: Rig) -> None:
    done = evkiosk(*IDENTITY, "--profile", rig.smap.model, "--port", rig.server.url, "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["public_key"] == rig.sim.public_key and shown["signing"] is True
    if rig.smap.protocol == "em580":
        assert shown["firmware"] == "1.2.3 / 1.2.3"


def test_the_cli_names_an_unknown_signing_model() -> None:
    done = evkiosk(*IDENTITY, "--profile", "sdm630", "--port", "tcp://127.0.0.1:1")
    assert done.returncode == 2 and "no signing meter model 'sdm630'" in done.stderr


def test_an_independent_verifier_accepts_the_records(rig: Rig) -> None:
    """pyocmf (an unofficial OCMF parser and verifier, Transparenzsoftware-like rules) in its
    strict mode: the record is valid OCMF, verifies with the key the meter publishes, and has
    no Eichrecht errors (informative clocks are warnings)."""
    from pyocmf import OCMF

    text = session(rig)
    checked = OCMF.from_string(text, strict=True)
    assert checked.verify_signature(rig.driver.identity().public_key)
    assert checked.check_eichrecht(errors_only=True) == []
    tampered = OCMF.from_string(text.replace('"TX":"E","RV":', '"TX":"E","RV":1'), strict=True)
    assert not tampered.verify_signature(rig.driver.identity().public_key)


def test_after_a_failed_end_the_meter_is_freed_at_the_next_start_up(rig: Rig) -> None:
    rig.driver.start_transaction(start("S-1"))
    rig.sim.inject_signing("stop_fails")
    with pytest.raises(SigningError):
        rig.driver.end_transaction("S-1")
    late = rig.new_driver().recover()
    if rig.smap.protocol == "iskra":
        # The WM3M4C kept the transaction open: it is ended now and its record collected.
        assert late is not None and parse_ocmf(late).payload["ID"] == "S-1"
    else:
        assert late is None  # the EM580 marked it corrupted: aborted, nothing to collect
    rig.driver.start_transaction(start("S-2"))
    rig.driver.end_transaction("S-2")
    assert parse_ocmf(rig.driver.read_record("S-2")).payload["ID"] == "S-2"
