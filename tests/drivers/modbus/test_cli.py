"""`evkiosk meter|charger|sim` as an installer runs them: real sockets, ptys and simulators,
the commands through the CLI's main(argv); the installed `evkiosk` script as a process of its
own for a meter reading and for a simulator on a busy port."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from drivers.modbus_sim import SimStation
from drivers.modbus_sim.process import SimProcess
from tests.evkiosk_cli import Ran
from tests.evkiosk_cli import evkiosk as run_evkiosk

Starter = Callable[..., SimStation]
EVKIOSK = str(Path(sys.executable).parent / "evkiosk")


def process(*args: str) -> subprocess.CompletedProcess[str]:
    """`evkiosk ARGS` through the installed console script."""
    return subprocess.run([EVKIOSK, *args], capture_output=True, text=True, timeout=60, check=False)


def evkiosk(*args: str) -> Ran:
    """`evkiosk ARGS` through the CLI's main(argv), in this process."""
    return run_evkiosk(*args)


def test_meter_read_json(start_station: Starter) -> None:
    station = start_station(controller_profile=None)
    result = process("meter", "read", "--profile", "sdm630", "--port", station.meter_port, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["energy_import_kwh"] == pytest.approx(12_345.678)
    assert data["energy_import_wh"] == 12_345_678
    assert data["power_w"] == 0.0
    assert data["voltage_v"] == pytest.approx([230.1, 229.8, 230.4], abs=1e-3)
    assert data["current_a"] == [0.0, 0.0, 0.0]
    assert data["frequency_hz"] == 50.0
    assert datetime.fromisoformat(data["measured_at"]).utcoffset() is not None


def test_meter_read_text_over_rtu_with_line_settings(start_station: Starter) -> None:
    station = start_station(transport="pty", controller_profile=None)
    result = evkiosk(
        "meter",
        "read",
        "--profile",
        "sdm630",
        "--port",
        station.meter_port,
        "--unit",
        "1",
        "--baud",
        "9600",
        "--parity",
        "N",
        "--stopbits",
        "1",
    )
    assert result.returncode == 0, result.stderr
    assert "energy import   12345.678 kWh" in result.stdout
    assert "voltage         230.1 / 229.8 / 230.4 V" in result.stdout


def test_meter_watch_prints_one_line_per_reading(start_station: Starter) -> None:
    station = start_station(controller_profile=None)
    result = evkiosk(
        "meter",
        "read",
        "--profile",
        "sdm630",
        "--port",
        station.meter_port,
        "--json",
        "--watch",
        "0.05",
        "--count",
        "3",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    assert len({line["measured_at"] for line in lines}) == 3  # each one measured anew


@pytest.mark.parametrize(
    ("transport", "expected"),
    [
        (
            "tcp",
            "'gateway target failed to respond' (code 11): the gateway got no answer: "
            "check the unit id",
        ),
        ("pty", "nothing answered: check the unit id (--unit), baud rate, parity"),
    ],
)
def test_wrong_unit_id_says_what_to_check(
    transport: str, expected: str, start_station: Starter
) -> None:
    station = start_station(transport=transport, controller_profile=None)
    result = evkiosk(
        "meter",
        "read",
        "--profile",
        "sdm630",
        "--port",
        station.meter_port,
        "--unit",
        "7",
        "--timeout",
        "0.2",
    )
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_baud_rate_gives_garbage_on_the_line(start_station: Starter) -> None:
    # What a wrong baud rate looks like on RS485: bytes, but no valid frame.
    station = start_station(transport="pty", controller_profile=None)
    station.inject("meter", "garbage")
    result = evkiosk(
        "meter", "read", "--profile", "sdm630", "--port", station.meter_port, "--timeout", "0.2"
    )
    assert result.returncode == 1
    assert "no valid frame (CRC or framing error): check baud rate and parity" in result.stderr


def test_nothing_listening(start_station: Starter) -> None:
    result = evkiosk(
        "meter", "read", "--profile", "sdm630", "--port", "tcp://127.0.0.1:1", "--timeout", "0.2"
    )
    assert result.returncode == 1
    assert "cannot connect to 127.0.0.1:1" in result.stderr


def test_absurd_values_suggest_the_word_order(tmp_path: Path, start_station: Starter) -> None:
    station = start_station(meter_profile="em340", controller_profile=None)
    import drivers.modbus as pkg

    data = json.loads((Path(pkg.__file__).parent / "maps" / "em340.json").read_text())
    for register in data["registers"].values():
        register["word_order"] = "big"
    user_map = tmp_path / "em340-big.json"
    user_map.write_text(json.dumps(data))
    result = evkiosk("meter", "read", "--profile", str(user_map), "--port", station.meter_port)
    assert result.returncode == 1
    assert "wrong word order suspected" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "sdm999", "--port", "tcp://127.0.0.1:502"], "unknown profile 'sdm999'"),
        (["--profile", "phoenix-ev-eth", "--port", "tcp://127.0.0.1:502"], "is a charger profile"),
        (["--profile", "sdm630", "--port", "udp://x:1"], "unknown scheme 'udp'"),
        (["--profile", "sdm630", "--port", "/dev/ttyX", "--baud", "9601"], "baud rate 9601"),
        (["--profile", "sdm630", "--port", "tcp://127.0.0.1:502", "--unit", "300"], "--unit 300"),
    ],
)
def test_bad_input_exits_2_and_names_it(args: list[str], message: str) -> None:
    result = evkiosk("meter", "read", *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_profiles_are_listed() -> None:
    meters = evkiosk("meter", "profiles")
    assert "sdm630" in meters.stdout and "phoenix" not in meters.stdout
    chargers = evkiosk("charger", "profiles")
    assert "bender-cc612" in chargers.stdout and "sdm630" not in chargers.stdout


@pytest.mark.parametrize("profile", ["phoenix-ev-eth", "bender-cc612"])
def test_charger_status_enable_set_current_disable(profile: str, start_station: Starter) -> None:
    station = start_station(meter_profile=None, controller_profile=profile)
    station.plug_in()
    common = ["--profile", profile, "--port", station.controller_port, "--json"]

    def charger(*args: str) -> dict[str, object]:
        result = evkiosk("charger", *args, *common)
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    status = charger("status")
    assert (status["state"], status["charging_enabled"]) == ("B", False)
    assert charger("set-current", "16")["current_limit_a"] in (16.0, 0.0)
    status = charger("enable")
    assert (status["state"], status["charging_enabled"]) == ("C", True)
    assert station.model.enabled
    status = charger("set-current", "10")
    assert status["current_limit_a"] == 10.0
    assert station.model.current_limit_a == 10.0
    status = charger("disable")
    assert (status["state"], status["charging_enabled"]) == ("B", False)
    assert not station.model.enabled


def test_charger_current_out_of_range_is_bad_input(start_station: Starter) -> None:
    station = start_station(meter_profile=None)
    result = evkiosk(
        "charger",
        "set-current",
        "80",
        "--profile",
        "phoenix-ev-eth",
        "--port",
        station.controller_port,
    )
    assert result.returncode == 2
    assert "outside 6..63 A" in result.stderr


def test_charger_status_text_over_a_shared_rtu_line(start_station: Starter) -> None:
    station = start_station(transport="pty", controller_profile="phoenix-ev-ser")
    assert station.controller is not None
    result = evkiosk(
        "charger",
        "status",
        "--profile",
        "phoenix-ev-ser",
        "--port",
        station.controller_port,
        "--unit",
        str(station.controller.unit),
    )
    assert result.returncode == 0, result.stderr
    assert "state             A (raw 'A1')" in result.stdout


def test_sim_subprocess_with_meter_and_charger() -> None:
    with SimProcess("meter", "--with-charger", "phoenix-ev-eth") as sim:
        meter, charger = sim.ready["meter"], sim.ready["controller"]
        assert meter["port"].startswith("tcp://127.0.0.1:")
        assert sim.command("plug 0.5") == "ok"
        assert json.loads(sim.command("status"))["state"] == "B1"
        enable = evkiosk(
            "charger", "enable", "--profile", "phoenix-ev-eth", "--port", charger["port"]
        )
        assert enable.returncode == 0, enable.stderr
        assert json.loads(sim.command("status"))["state"] == "C2"
        assert sim.command("fault meter silence") == "ok"
        read = evkiosk(
            "meter", "read", "--profile", "sdm630", "--port", meter["port"], "--timeout", "0.2"
        )
        assert read.returncode == 1 and "nothing answered" in read.stderr
        assert sim.command("clear") == "ok"
        read = evkiosk("meter", "read", "--profile", "sdm630", "--port", meter["port"], "--json")
        assert json.loads(read.stdout)["power_w"] == pytest.approx(11_000)
        assert sim.command("fault meter sparks").startswith("error: unknown fault 'sparks'")


def test_sim_pty_prints_its_path() -> None:
    with SimProcess("charger", "--profile", "phoenix-ev-ser", listen="pty") as sim:
        port = sim.ready["controller"]["port"]
        assert port.startswith("/dev/")
        result = evkiosk(
            "charger", "status", "--profile", "phoenix-ev-ser", "--port", port, "--json"
        )
        assert json.loads(result.stdout)["raw_state"] == "A1"


def test_sim_refuses_a_serial_listen_address() -> None:
    result = evkiosk("sim", "meter", "--listen", "/dev/ttyS0")
    assert result.returncode == 2
    assert "use tcp://HOST:PORT, socket://HOST:PORT or pty" in result.stderr


def test_sim_on_a_busy_port_says_so_without_a_traceback() -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = process("sim", "meter", "--listen", f"tcp://127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"cannot listen on tcp://127.0.0.1:{port}" in result.stderr
    assert "in use" in result.stderr and "Traceback" not in result.stderr


def test_charger_commands_refuse_a_meter_profile() -> None:
    result = evkiosk("charger", "status", "--profile", "sdm630", "--port", "tcp://127.0.0.1:9")
    assert result.returncode == 2
    assert "sdm630: this is a meter profile, not a charger" in result.stderr
