"""`evkiosk zvt …` and `evkiosk sim terminal` as installers run them, through the CLI's
main(argv) against real simulators, sockets and ptys; the installed `evkiosk` script as a process
of its own for bytes piped to stdin and for a terminal behind a pty."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.zvt.codec.apdu import Apdu
from drivers.zvt.codec.bmp import encode_bmp, encode_totals
from drivers.zvt.codec.tlv import constructed, tlv
from drivers.zvt.transport_serial import encode_frame
from drivers.zvt_sim.control import SimulatorProcess
from tests.evkiosk_cli import Ran
from tests.evkiosk_cli import evkiosk as run_evkiosk

EVKIOSK = str(Path(__file__).resolve().parents[3] / ".venv" / "bin" / "evkiosk")
FULL_PAN = "5413330089020011"


def process(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`evkiosk ARGS` through the installed console script."""
    return subprocess.run(
        [EVKIOSK, *args], check=False, capture_output=True, text=True, input=stdin, timeout=60
    )


def evkiosk(*args: str, stdin: str | None = None) -> Ran:
    """`evkiosk ARGS` through the CLI's main(argv), in this process."""
    return run_evkiosk(*args, stdin=stdin)


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def approval_hex() -> str:
    data = (
        bytes([0x27, 0x00])
        + encode_bmp(0x04, 2500)
        + encode_bmp(0x49, 978)
        + encode_bmp(0x0B, 975)
        + encode_bmp(0x0C, "225558")
        + encode_bmp(0x0D, "0405")
        + encode_bmp(0x22, bytes.fromhex(FULL_PAN))
        + encode_bmp(0x23, bytes.fromhex(FULL_PAN + "D2512101"))
        + encode_bmp(0x29, "52523535")
        + encode_bmp(0x3B, "750071")
        + encode_bmp(0x87, 231)
        + encode_bmp(0x8A, 0x06)
        + encode_bmp(0x8B, "MasterCard\x00")
        + encode_bmp(0x3C, "GEN.NR.:958520")
        + encode_bmp(0x06, [constructed(0x24, tlv(0x07, b"Zahlung erfolgt"))])
        + bytes([0x6C, 0x01, 0x02])  # a BMP nobody knows
    )
    return Apdu(0x04, 0x0F, data).encode().hex(" ")


def test_decode_names_every_field_and_masks_the_card() -> None:
    done = evkiosk("zvt", "decode", approval_hex())
    assert done.returncode == 0, done.stderr
    (out,) = lines(done.stdout)
    assert out["command"] == "04 0F" and out["name"] == "Status-Information"
    assert out["result_code"] == 0 and out["amount"] == 2500 and out["currency_code"] == 978
    assert out["receipt_no"] == 231 and out["trace_no"] == 975
    assert out["terminal_id"] == "52523535" and out["card_name"] == "MasterCard"
    assert out["pan"] == "541333******0011" and out["track_2"] == "omitted"
    assert out["date"] == "0405" and out["time"] == "225558"
    assert out["text"] == "GEN.NR.:958520\nZahlung erfolgt"
    assert out["tlv"][0]["tag"] == "24"  # type: ignore[index]
    assert out["unknown"] == {"bmp": "6C", "length": 2}  # unknown: by number and length only
    assert FULL_PAN not in done.stdout and "89020011" not in done.stdout


def test_decode_end_of_day_totals_and_json_lines() -> None:
    totals = encode_totals(233, 234, {"Mastercard": (2, 958)})
    eod = Apdu(0x04, 0x0F, bytes([0x27, 0x00]) + encode_bmp(0x04, 958) + encode_bmp(0x60, totals))
    text = (
        f"{eod.encode().hex()} 06 D3 {bytes([0x0A]).hex()} 06 08 25 06 07 04 54 45 53 54 06 0F 00"
    )
    done = evkiosk("zvt", "decode", text)
    assert done.returncode == 0, done.stderr
    first, block, completion = lines(done.stdout)
    assert first["amount"] == 958
    assert first["totals"]["receipt_from"] == 233  # type: ignore[index]
    brands = {b["brand"]: (b["count"], b["amount"]) for b in first["totals"]["brands"]}  # type: ignore[index]
    assert brands["Mastercard"] == (2, 958) and brands["VISA"] == (0, 0)
    assert block["command"] == "06 D3" and block["text"] == "TEST"
    assert completion == {"command": "06 0F", "name": "Completion"}


def test_decode_serial_frames_from_stdin_checks_the_crc() -> None:
    good = (encode_frame(bytes.fromhex("800000")) + b"\x06").hex(" ")
    done = process("zvt", "decode", "-", stdin=good)  # a real pipe into the real script
    assert done.returncode == 0 and lines(done.stdout) == [
        {"command": "80 00", "name": "Acknowledgement"},
        {"transport": "ACK"},
    ]
    bad = evkiosk("zvt", "decode", "10 02 80 00 00 10 03 F5 1E")
    assert bad.returncode == 2 and "CRC 1EF5 received, 1FF5 computed" in bad.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("04 0F 05 27", "incomplete"),
        ("04 0G", "not hex: 'G'"),
        ("04 0F 04 22 F1 F5 12", "BMP 22 (pan): length 15"),
        ("abc", "odd number"),
    ],
)
def test_decode_refuses_bad_input_naming_why(text: str, message: str) -> None:
    done = evkiosk("zvt", "decode", text)
    assert done.returncode == 2 and message in done.stderr


@pytest.fixture(scope="module")
def sim_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    state = tmp_path_factory.mktemp("sim") / "pt.json"
    with SimulatorProcess.start("tcp", state, "--no-delays") as process:
        yield process


def test_status_against_the_simulator(sim_process: SimulatorProcess) -> None:
    done = evkiosk("zvt", "status", "--port", sim_process.address, "--password", "123456")
    assert done.returncode == 0, done.stderr
    (out,) = lines(done.stdout)
    assert out == {"ready": True, "terminal_id": "52523535", "raw_status": 0, "text": "ready"}


def test_open_preauths_and_end_of_day_against_the_simulator(sim_process: SimulatorProcess) -> None:
    from drivers.zvt.terminal import ZvtConfig, ZvtTerminal

    term = ZvtTerminal(ZvtConfig(port=sim_process.address))
    sim_process.script("approve", card_type=0x0A, card_name="VISA", pan="4111111111111111")
    auth = term.preauthorise(3000, "EUR", "CLI-1", lambda _r: None, lambda _t: None)
    term.close()  # a terminal serves one ECR connection at a time
    open_now = evkiosk("zvt", "open-preauths", "--port", sim_process.address)
    assert open_now.returncode == 0
    assert [p["receipt_no"] for p in json.loads(open_now.stdout)] == [auth.receipt_no]
    refused = evkiosk("zvt", "end-of-day", "--port", sim_process.address)
    assert refused.returncode == 1 and json.loads(refused.stdout)["raw_result_code"] == 0xB8

    assert term.settle(auth, 2100, lambda _r: None).amount_minor == 2100
    term.close()
    done = evkiosk("zvt", "end-of-day", "--port", sim_process.address)
    assert done.returncode == 0, done.stderr
    totals = json.loads(done.stdout)
    assert totals["outcome"] == "approved" and totals["total_minor"] == 2100
    assert totals["brands"] == [{"brand": "VISA", "count": 1, "amount_minor": 2100}]
    assert sim_process.ledger()["batch"] == []


def test_status_over_a_pty_from_a_simulator_subprocess(tmp_path: Path) -> None:
    with SimulatorProcess.start("pty", tmp_path / "pt.json") as sim:
        assert sim.address.startswith("/dev/")
        sim.call("set_terminal_status", status=0x51)
        done = process("zvt", "status", "--port", sim.address)
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert out["ready"] is False and out["text"] == "initialisation required"


def test_terminal_commands_report_unreachable_and_bad_options() -> None:
    unreachable = evkiosk("zvt", "status", "--port", "tcp://127.0.0.1:9", "--timeout", "0.5")
    assert (
        unreachable.returncode == 1 and "cannot connect" in unreachable.stdout + unreachable.stderr
    )
    bad = evkiosk("zvt", "status", "--port", "tcp://127.0.0.1:9", "--password", "12ab")
    assert bad.returncode == 2 and "--password must be 6 digits" in bad.stderr
    bad_listen = evkiosk("sim", "terminal", "--listen", "tcp://0.0.0.0:0")
    assert bad_listen.returncode == 2 and "127.0.0.1" in bad_listen.stderr
    no_scheme = evkiosk("zvt", "status", "--port", "192.168.1.50:20007")
    assert no_scheme.returncode == 2 and "write tcp://192.168.1.50:20007" in no_scheme.stderr


def test_decode_reads_the_drivers_own_log(tmp_path: Path) -> None:
    import logging

    from drivers.zvt.terminal import ZvtConfig, ZvtTerminal
    from drivers.zvt_sim import TerminalSimulator

    log_file = tmp_path / "kiosk.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("drivers.zvt")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    sim = TerminalSimulator.start_tcp()
    try:
        term = ZvtTerminal(ZvtConfig(port=sim.address, password="123456"))
        auth = term.preauthorise(2500, "EUR", "LOG-1", lambda _r: None, lambda _t: None)
        term.close()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        handler.close()
        sim.stop()
    text = log_file.read_text(encoding="utf-8")
    assert "12 34 56" not in text  # the password is not in the log
    done = evkiosk("zvt", "decode", "-", stdin=text)
    assert done.returncode == 0, done.stderr
    messages = lines(done.stdout)
    results = [m for m in messages if m["command"] == "04 0F"]
    assert [r["receipt_no"] for r in results] == [auth.receipt_no]
    assert results[0]["pan"] == "541333******0011" and results[0]["amount"] == 2500
    assert [m["command"] for m in messages][:3] == ["06 00", "80 00", "06 0F"]
