"""doctor: meter, controller and terminal asked through the real drivers, against the real
Modbus simulator (RTU on a pty, Modbus TCP) and the ZVT terminal simulator (TCP and pty)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.doctor import DoctorOptions, Outcome, run_doctor
from drivers.doctor.devices import check_controller, check_meter, check_terminal
from drivers.modbus_sim import Fault, SimStation
from drivers.zvt_sim import Delays, TerminalSimulator
from drivers.zvt_sim import Fault as TerminalFault
from kiosk.config import DeviceConfig
from tests.ops.stations import station_toml

FAST = {"timeout_s": 0.25}


@pytest.fixture
def rtu() -> Iterator[SimStation]:
    with SimStation.start(transport="pty") as station:
        yield station


@pytest.fixture
def tcp() -> Iterator[SimStation]:
    with SimStation.start(transport="tcp") as station:
        yield station


@pytest.fixture
def terminal_sim(tmp_path: Path) -> Iterator[TerminalSimulator]:
    sim = TerminalSimulator.start_tcp(state_file=tmp_path / "pt.json", delays=Delays.zero())
    try:
        yield sim
    finally:
        sim.stop()


def meter(port: str, unit: int, model: str = "sdm630", **extra: object) -> DeviceConfig:
    return DeviceConfig(
        "meters.m1", "real", model, None, {"port": port, "unit": unit, **FAST, **extra}
    )


def test_meter_reads_one_value_over_rtu(rtu: SimStation) -> None:
    assert rtu.meter is not None
    check = check_meter(meter(rtu.meter_port, rtu.meter.unit))
    assert check.outcome is Outcome.PASS
    assert "Wh" in check.detail


def test_meter_with_the_wrong_unit_id_fails(rtu: SimStation) -> None:
    assert rtu.meter is not None
    check = check_meter(meter(rtu.meter_port, rtu.meter.unit + 7))
    assert check.outcome is Outcome.FAIL
    assert "unit" in check.fix and "wiring" in check.fix


def test_meter_not_answering_fails(rtu: SimStation) -> None:
    assert rtu.meter is not None
    rtu.inject("meter", Fault.SILENCE)
    check = check_meter(meter(rtu.meter_port, rtu.meter.unit))
    assert check.outcome is Outcome.FAIL
    assert "no usable reading" in check.detail


def test_meter_config_keys_the_app_refuses_fail_by_name(tcp: SimStation) -> None:
    """host/unit_id are not the factory's keys: the doctor refuses them as the app does."""
    assert tcp.meter is not None
    host, _, port = tcp.meter_port.removeprefix("tcp://").partition(":")
    device = DeviceConfig(
        "meters.m1",
        "real",
        "sdm630",
        None,
        {"host": host, "port": int(port), "unit_id": tcp.meter.unit, **FAST},
    )
    check = check_meter(device)
    assert check.outcome is Outcome.FAIL
    assert "unit_id" in check.detail + check.fix, check


def test_meter_with_an_unknown_model_names_the_shipped_ones(rtu: SimStation) -> None:
    check = check_meter(meter(rtu.meter_port, 1, model="eastron_sdm630"))
    assert check.outcome is Outcome.FAIL
    assert "sdm630" in check.fix


def test_controller_state_and_a_controller_fault(tcp: SimStation) -> None:
    assert tcp.controller is not None
    device = DeviceConfig(
        "controllers.c1",
        "real",
        "phoenix-ev-eth",
        None,
        {"port": tcp.controller_port, "unit": tcp.controller.unit, **FAST},
    )
    ok = check_controller(device)
    assert ok.outcome is Outcome.PASS and "state A" in ok.detail
    tcp.set_controller_error("F")
    bad = check_controller(device)
    assert bad.outcome is Outcome.FAIL and "state F" in bad.detail
    tcp.set_controller_error(None)
    tcp.inject("controller", Fault.SILENCE)
    silent = check_controller(device)
    assert silent.outcome is Outcome.FAIL and "no usable state" in silent.detail


def _terminal(port: str) -> DeviceConfig:
    return DeviceConfig("terminal", "real", "zvt", None, {"port": port, "password": "000000"})


def test_terminal_answers_a_status_enquiry(terminal_sim: TerminalSimulator) -> None:
    check = check_terminal(_terminal(terminal_sim.address), timeout_s=2)
    assert check.outcome is Outcome.PASS, check
    assert "ready" in check.detail


@pytest.mark.parametrize("hardware", ["real", "simulated"])
def test_an_unknown_terminal_model_fails_naming_the_known_ones(hardware: str) -> None:
    device = DeviceConfig("terminal", hardware, "ingenico-ipp", None, {"port": "/dev/null"})
    check = check_terminal(device, timeout_s=0.3)
    assert check.outcome is Outcome.FAIL
    assert "'ingenico-ipp'" in check.detail and "zvt" in check.fix


def test_terminal_not_answering_fails(terminal_sim: TerminalSimulator) -> None:
    terminal_sim.inject(TerminalFault.NO_RESPONSE, count=5)
    check = check_terminal(_terminal(terminal_sim.address), timeout_s=0.3)
    assert check.outcome is Outcome.FAIL
    assert "ECR interface" in check.fix


def test_terminal_over_a_serial_pty(tmp_path: Path) -> None:
    sim = TerminalSimulator.start_pty(state_file=tmp_path / "pt.json", delays=Delays.zero())
    try:
        check = check_terminal(_terminal(sim.address), timeout_s=2)
    finally:
        sim.stop()
    assert check.outcome is Outcome.PASS, check


def test_whole_report_against_simulated_hardware(
    tmp_path: Path, rtu: SimStation, terminal_sim: TerminalSimulator
) -> None:
    """One config with real-mode devices on the simulators: every device line passes."""
    assert rtu.meter is not None and rtu.controller is not None
    config = station_toml(
        tmp_path,
        terminal=f'hardware = "real"\nport = "{terminal_sim.address}"',
        meter=f'hardware = "real"\nmodel = "sdm630"\nport = "{rtu.meter_port}"\n'
        f"unit = {rtu.meter.unit}\ntimeout_s = 0.25",
        controller=f'hardware = "real"\nmodel = "phoenix-ev-eth"\nport = "{rtu.controller_port}"\n'
        f"unit = {rtu.controller.unit}\ntimeout_s = 0.25",
    )
    checks = run_doctor(DoctorOptions(config=config, timedatectl=None, min_free_mb=0, timeout_s=2))
    outcomes = {c.area: c.outcome for c in checks}
    assert outcomes["port"] is Outcome.PASS
    assert outcomes["meter"] is outcomes["controller"] is outcomes["terminal"] is Outcome.PASS, [
        c for c in checks if c.outcome is Outcome.FAIL
    ]


def test_terminal_answering_not_ready_says_what_it_needs(
    terminal_sim: TerminalSimulator,
) -> None:
    terminal_sim.set_terminal_status(0xB1)  # memory full: end-of-day needed
    check = check_terminal(_terminal(terminal_sim.address), timeout_s=2)
    assert check.outcome is Outcome.FAIL
    assert "not ready: memory full: end-of-day needed" in check.detail
    assert "display" in check.fix


def test_a_different_terminal_than_configured_fails(terminal_sim: TerminalSimulator) -> None:
    device = DeviceConfig(
        "terminal",
        "real",
        "zvt",
        None,
        {"port": terminal_sim.address, "terminal_id": "99999999"},
    )
    check = check_terminal(device, timeout_s=2)
    assert check.outcome is Outcome.FAIL
    assert "52523535" in check.detail and "99999999" in check.detail


def test_devices_are_not_asked_while_the_kiosk_runs(
    tmp_path: Path, terminal_sim: TerminalSimulator
) -> None:
    """A status enquiry in the middle of the kiosk's payment could break it: doctor refuses."""
    from doubles import paths

    from tests.ops.journals import Writer, journal_with

    config = station_toml(tmp_path, terminal=f'hardware = "real"\nport = "{terminal_sim.address}"')
    journal = journal_with(tmp_path, paths.charging)
    kiosk = Writer(journal, 1)
    try:
        checks = run_doctor(DoctorOptions(config=config, timedatectl=None, min_free_mb=0))
    finally:
        kiosk.stop()
    [running] = [c for c in checks if c.area == "kiosk"]
    assert running.outcome is Outcome.FAIL and f"pid {kiosk.proc.pid}" in running.detail
    [terminal] = [c for c in checks if c.area == "terminal"]
    assert terminal.outcome is Outcome.SKIP and "running" in terminal.detail
    # Once stopped, the same check asks the terminal.
    after = run_doctor(DoctorOptions(config=config, timedatectl=None, min_free_mb=0))
    assert [c.outcome for c in after if c.area == "terminal"] == [Outcome.PASS]
