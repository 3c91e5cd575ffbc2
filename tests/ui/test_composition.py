"""The composition root in real-hardware mode, pointed at simulators that stand where the
real devices would be (ZVT over TCP, Modbus TCP meter and controller)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flowrig import T0, station_toml, tariff

from drivers.modbus_sim import SimStation
from drivers.zvt_sim import Delays, TerminalSimulator
from kiosk.config import load_config
from kiosk.runtime.clock import FakeClock
from kiosk.runtime.starting import starting_snapshot
from kiosk.snapshot import ChooseConnector, ConfirmPrice, PayByCard, Phase, StationSnapshot
from ui.composition import CompositionError, assemble
from ui.starting import StationStart


@pytest.fixture
def devices() -> Iterator[tuple[TerminalSimulator, SimStation]]:
    terminal = TerminalSimulator.start_tcp(delays=Delays.zero())
    station = SimStation.start(transport="tcp")
    yield terminal, station
    station.close()
    terminal.stop()


def station_file(tmp: Path, terminal: str, meter: str, controller: str, model: str) -> Path:
    def host_port(url: str) -> tuple[str, int]:
        host, port = url.removeprefix("tcp://").rsplit(":", 1)
        return host, int(port)

    (tmp / "tariff.json").write_text(json.dumps(tariff("0.50")))
    path = tmp / "station.toml"
    path.write_text(
        f"""
[station]
name = "Real wiring"
locales = ["en"]
timezone = "Europe/Berlin"
journal = "journal.db"

[terminal]
hardware = "real"
model = "zvt"
port = "{terminal}"

[meters.left]
hardware = "real"
model = "{model}"
port = "{meter}"
unit = 1

[controllers.left]
hardware = "real"
model = "phoenix-ev-eth"
port = "{controller}"

[[connector]]
id = "1"
label = "A"
type = "Type 2"
max_kw = 11
tariff = "tariff.json"
meter = "left"
controller = "left"
"""
    )
    return path


def test_real_mode_reaches_the_configured_ports(
    tmp_path: Path, devices: tuple[TerminalSimulator, SimStation]
) -> None:
    terminal, station = devices
    path = station_file(
        tmp_path, terminal.address, station.meter_port, station.controller_port, "sdm630"
    )
    clock = FakeClock(T0)
    asm = assemble(load_config(path), simulate=False, state_dir=tmp_path / "state", clock=clock)
    try:
        assert asm.simulator is None  # nothing simulated by the app itself
        asm.start()
        rt = asm.runtime
        assert rt.wait_idle(30)
        rt.send(ChooseConnector("1"))
        assert rt.wait_idle(30)
        focus = rt.snapshot.focus if rt.snapshot else None
        assert focus is not None and focus.phase is Phase.PRICE_SHOWN
        rt.send(ConfirmPrice(focus.session_id))
        rt.send(PayByCard(focus.session_id))
        assert rt.wait_idle(30)
        focus = rt.snapshot.focus if rt.snapshot else None
        assert focus is not None and focus.phase is Phase.WAITING_FOR_PLUG, focus
        assert (tmp_path / "journal.db").exists()  # real mode: the journal the config names
    finally:
        asm.stop()


def test_the_window_gets_the_configured_station_first_and_the_station_comes_after_the_frame(
    tmp_path: Path, devices: tuple[TerminalSimulator, SimStation]
) -> None:
    terminal, station = devices
    path = station_file(
        tmp_path, terminal.address, station.meter_port, station.controller_port, "sdm630"
    )
    start = StationStart(load_config(path), simulate=False, state_dir=tmp_path / "state")
    seen: list[StationSnapshot] = []
    start.station.subscribe(seen.append)
    (first,) = seen
    assert first.seq == 0 and first.phase is Phase.IDLE and first.station_name == "Real wiring"
    (tile,) = first.connectors
    assert tile.reason_code == "connecting" and not tile.selectable and tile.price is None
    starter = threading.Thread(target=start.run, daemon=True)
    try:
        starter.start()
        assert start.assembly is None  # nothing is built (no journal) before the frame
        assert not (tmp_path / "journal.db").exists()
        start.first_frame_shown()
        starter.join(30)
        assert not starter.is_alive() and start.assembly is not None
        rt = start.assembly.runtime
        assert rt.wait_idle(30)
        deadline = 3000
        while deadline and (rt.snapshot is None or not rt.snapshot.connectors[0].selectable):
            time.sleep(0.01)  # the controller answers within a few polls
            deadline -= 1
        assert rt.snapshot is not None and rt.snapshot.connectors[0].selectable
        start.station.send(ChooseConnector("1"))  # the window's intents reach the runtime
        assert rt.wait_idle(30)
        focus = rt.snapshot.focus if rt.snapshot else None
        assert focus is not None and focus.phase is Phase.PRICE_SHOWN
        # the listener subscribed before the runtime existed gets the runtime's snapshots
        assert seen[-1].seq > 0 and seen[-1].connectors[0].price is not None
        assert seen[-1].focus is not None
    finally:
        start.cancel()
        starter.join(10)
        start.stop()


def test_the_configured_station_is_what_the_runtime_publishes_before_its_devices_answer(
    tmp_path: Path,
) -> None:
    path = station_file(tmp_path, "tcp://127.0.0.1:9", "tcp://127.0.0.1:9", "tcp://127.0.0.1:9",
                        "sdm630")  # fmt: skip
    config = load_config(path)
    asm = assemble(config, simulate=False, state_dir=tmp_path / "state")
    try:
        asm.runtime.publish_starting()
        published = asm.runtime.snapshot
        assert published is not None
        shown = starting_snapshot(config, published.published_at)
        without_price = tuple(replace(t, price=None) for t in published.connectors)
        assert published.connectors[0].price is not None  # the runtime's brings the price
        assert shown == replace(published, seq=0, connectors=without_price)
    finally:
        asm.stop()


def test_a_start_still_waiting_for_the_frame_is_cancelled_and_builds_nothing(
    tmp_path: Path,
) -> None:
    path = station_file(tmp_path, "tcp://127.0.0.1:9", "tcp://127.0.0.1:9", "tcp://127.0.0.1:9",
                        "sdm630")  # fmt: skip
    start = StationStart(load_config(path), simulate=False, state_dir=tmp_path / "state")
    starter = threading.Thread(target=start.run, daemon=True)
    starter.start()
    start.cancel()
    starter.join(10)
    assert not starter.is_alive()
    assert start.assembly is None and not (tmp_path / "journal.db").exists()
    start.stop()


def test_a_station_that_cannot_be_built_says_why_after_the_frame(tmp_path: Path) -> None:
    path = station_file(tmp_path, "tcp://127.0.0.1:9", "tcp://127.0.0.1:9", "tcp://127.0.0.1:9",
                        "eastron_sdm630")  # fmt: skip
    start = StationStart(load_config(path), simulate=False, state_dir=tmp_path / "state")
    start.first_frame_shown()
    with pytest.raises(CompositionError, match=r"\[meters\.left\] model 'eastron_sdm630'"):
        start.run()
    assert start.assembly is None


def test_real_mode_refuses_an_unknown_meter_model_by_name(
    tmp_path: Path, devices: tuple[TerminalSimulator, SimStation]
) -> None:
    terminal, station = devices
    path = station_file(
        tmp_path, terminal.address, station.meter_port, station.controller_port, "eastron_sdm630"
    )
    with pytest.raises(CompositionError, match=r"\[meters\.left\] model 'eastron_sdm630'.*sdm630"):
        assemble(load_config(path), simulate=False, state_dir=tmp_path / "state")


def test_the_app_loads_no_simulator_nor_http_client_until_they_are_used() -> None:
    # A real-hardware station never needs the simulators or pymodbus' server code, and the
    # HTTP client loads after the first frame (on the backend's owner thread); so do the
    # Modbus client (pymodbus, asyncio, ssl: at the first request), the OCMF signature check
    # (cryptography), the QR encoder, pyserial (a serial terminal, when opened), the package
    # metadata and the service menu itself (when first opened), and the OCMF signer's protocol
    # (a signing meter, when configured). Neither does the first frame wait for the embedded
    # backend's process control (simulated stations), OpenSSL's hashes (a receipt link, the
    # service PIN), uuid (the first session) nor importlib.resources (the register maps are
    # read from their folder).
    imported = "ui.cli, ui.composition, ui.app, drivers.station"
    assert loaded_by(imported, "drivers.zvt_sim drivers.modbus_sim pymodbus httpx backend"
                     " cryptography qrcode importlib.metadata asyncio serial ui.service"
                     " drivers.ocmf_meter.protocol ui.embedded_backend subprocess hashlib uuid"
                     " importlib.resources") == []  # fmt: skip


def loaded_by(imports: str, modules: str) -> list[str]:
    """Which of `modules` (space-separated) a fresh interpreter has after `import imports`."""
    code = (
        f"import sys, {imports}\n"
        f"print(' '.join(m for m in {modules.split()!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.split()


def test_the_first_frame_loads_no_device_driver_journal_nor_runtime() -> None:
    # What the idle screen needs before its first frame: the config, the snapshot and the
    # window. The station's stack (journal, runtime, drivers, the composition root) is
    # imported after that frame, on the thread that builds the station.
    stack = "ui.composition drivers kiosk.journal kiosk.runtime.core kiosk.session.machine"
    assert loaded_by("ui.cli, ui.starting, ui.app", stack + " kiosk.outbox kiosk.ocmf") == []


def test_the_backend_client_loads_httpx_without_its_command_line_client() -> None:
    # httpx imports click, rich and pygments for its command line whenever they are installed
    # (~9 MB resident in the kiosk process); the station's client never runs it.
    code = (
        "import sys, drivers.backend_client, httpx\n"
        "assert httpx.Client is not None\n"
        "print(' '.join(m for m in ('httpx._main', 'click', 'rich', 'pygments')"
        " if sys.modules.get(m)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == []


@pytest.mark.parametrize("hardware", ["real", "simulated"])
def test_the_app_refuses_an_unknown_terminal_model_by_name(
    tmp_path: Path, devices: tuple[TerminalSimulator, SimStation], hardware: str
) -> None:
    terminal, station = devices
    path = station_file(
        tmp_path, terminal.address, station.meter_port, station.controller_port, "sdm630"
    )
    terminal_table = '[terminal]\nhardware = "real"\nmodel = "zvt"'
    assert terminal_table in path.read_text()
    path.write_text(
        path.read_text().replace(
            terminal_table, f'[terminal]\nhardware = "{hardware}"\nmodel = "ingenico-ipp350"'
        )
    )
    with pytest.raises(CompositionError, match=r"\[terminal\] model 'ingenico-ipp350'.*zvt"):
        assemble(load_config(path), simulate=False, state_dir=tmp_path / "state")


def test_a_station_stopped_before_its_backend_answered_leaves_no_thread_behind(
    tmp_path: Path,
) -> None:
    # The app quits during start-up: the wait for the simulated station's embedded backend
    # ends with the station. A thread left importing while the interpreter shut down, with Qt
    # torn down, crashed the process (SIGSEGV in about one start in twenty).
    (tmp_path / "tariff.json").write_text(json.dumps(tariff("0.50", None)))
    (tmp_path / "station.toml").write_text(station_toml(5000, 180, 90, True))
    config = load_config(tmp_path / "station.toml")
    asm = assemble(config, simulate=True, state_dir=tmp_path / "state")
    waiting = [t for t in threading.enumerate() if t.name == "embedded-backend-ready"]
    assert waiting, "the simulated station waits for its backend in a thread"
    asm.stop()
    assert not any(t.is_alive() for t in waiting)
