"""`evkiosk run --simulate` for demos and headless machines: --vnc, --connectors N, --scenario."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.config import load_config
from tests.evkiosk_cli import evkiosk
from ui.cli import SAMPLE_CONFIG
from ui.composition import assemble
from ui.platform_check import xcb_problem
from ui.simulated_station import vnc_platform, with_connectors

EVKIOSK = [sys.executable, "-m", "kiosk.cli.main", "run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def test_vnc_serves_the_kiosk_over_rfb(tmp_path: Path) -> None:
    port = _free_port()
    app = subprocess.Popen(
        [*EVKIOSK, "--simulate", "--state", str(tmp_path), "--vnc", f":{port}"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not banner:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                    banner = sock.recv(12)
            except OSError:
                assert app.poll() is None, app.stderr.read() if app.stderr else ""
                time.sleep(0.3)
        assert banner.startswith(b"RFB 003.") and banner.endswith(b"\n"), banner
    finally:
        app.terminate()  # SIGTERM: the app stops cleanly
        _, err = app.communicate(timeout=30)
    assert app.returncode == 0, err
    assert f"vnc:size=1280x800:port={port}" in err


def test_vnc_argument_is_checked() -> None:
    assert vnc_platform("5901", (800, 480)) == "vnc:size=800x480:port=5901"
    with pytest.raises(ValueError, match="--vnc 'five'"):
        vnc_platform("five", None)
    done = evkiosk("run", "--simulate", "--vnc", ":99999")  # main(argv), in this process
    assert done.returncode == 2 and "--vnc ':99999'" in done.stderr


def test_connectors_n_builds_a_station_with_n_simulated_connectors(tmp_path: Path) -> None:
    config = with_connectors(replace(load_config(SAMPLE_CONFIG), backend=None), 5)
    assert [c.id for c in config.connectors] == ["1", "2", "3", "4", "5"]
    # Copied in turn: the sample's connector 2 has its own hold.
    assert [c.hold_minor for c in config.connectors] == [5000, 3000, 5000, 3000, 5000]
    asm = assemble(config, simulate=True, state_dir=tmp_path)
    try:
        assert asm.simulator is not None and asm.simulator.connectors() == [
            "1",
            "2",
            "3",
            "4",
            "5",
        ]
        asm.start()
        assert asm.runtime.wait_idle(30)
        snapshot = asm.runtime.snapshot
        assert snapshot is not None
        assert [t.connector_id for t in snapshot.connectors] == ["1", "2", "3", "4", "5"]
        reading = asm.runtime.devices.meters["5"].read()
        assert reading.energy_import_wh >= 0
    finally:
        asm.stop()
    with pytest.raises(ValueError, match="--connectors 0: must be between 1 and 24"):
        with_connectors(config, 0)


def test_connectors_and_scenario_need_simulate(tmp_path: Path) -> None:
    done = evkiosk("run", "--config", str(SAMPLE_CONFIG), "--connectors", "3")
    assert done.returncode == 2 and "need --simulate" in done.stderr


def test_a_scenario_naming_an_unknown_connector_is_refused_before_it_runs(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text('[[step]]\ndo = "plug"\nconnector = "9"\n')
    done = subprocess.run(
        [*EVKIOSK, "--simulate", "--state", str(tmp_path / "s"), "--scenario", str(scenario)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "step 1 (do = 'plug'): connector: '9' is not one of this station's (1, 2)" in (
        done.stderr
    )


def test_a_scenario_step_that_cannot_be_done_fails_the_run(tmp_path: Path) -> None:
    scenario = tmp_path / "tap.toml"
    scenario.write_text(
        '[[step]]\ndo = "wait_for"\npage = "idle"\n\n[[step]]\ndo = "tap"\nbutton = "stop"\n'
    )
    done = subprocess.run(
        [*EVKIOSK, "--simulate", "--state", str(tmp_path / "s"), "--scenario", str(scenario)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "step 2 (tap button='stop') failed: no button 'stop' can be tapped" in done.stderr


def test_runs_on_an_x11_display(tmp_path: Path) -> None:
    """A machine with a display: Qt's xcb platform on a real X server (Xvfb)."""
    from tests.conftest import require_executable

    xvfb = require_executable("Xvfb", package="xvfb")
    problem = xcb_problem({"QT_QPA_PLATFORM": "xcb"})
    if problem is not None:  # evkiosk run says so itself (the test below); CI installs them
        if os.environ.get("EVKIOSK_REQUIRE_ALL") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as announced:
            display = announced.readline().strip()
        assert display.isdigit(), display
        env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": f":{display}"}
        done = subprocess.run(
            [*EVKIOSK, "--simulate", "--state", str(tmp_path), "--quit-after", "5"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.terminate()
        server.wait(10)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "display xcb" in done.stderr


def test_a_missing_xcb_library_is_named_with_its_package() -> None:
    libraries = {"libc.so.6": "libc6", "libevkiosk-absent.so.9": "libevkiosk-absent9"}
    problem = xcb_problem({"QT_QPA_PLATFORM": "xcb"}, libraries)
    assert problem is not None
    assert "needs libevkiosk-absent.so.9," in problem and "libc.so.6" not in problem
    assert "sudo apt-get install libevkiosk-absent9 " in problem
    assert xcb_problem({"QT_QPA_PLATFORM": "offscreen"}, libraries) is None
    assert xcb_problem({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, libraries) is None
    assert xcb_problem({"DISPLAY": ":0"}, libraries) is not None


def test_no_display_at_all_says_how_to_run_headless() -> None:
    problem = xcb_problem({}, {"libc.so.6": "libc6"})
    assert problem is not None and "no display" in problem
    assert "--vnc :5900" in problem and "--screenshots DIR" in problem
    assert xcb_problem({"DISPLAY": ":0"}, {"libc.so.6": "libc6"}) is None


def test_evkiosk_run_without_a_display_exits_with_that_message(tmp_path: Path) -> None:
    env = {k: v for k, v in _env().items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        [*EVKIOSK, "--simulate", "--state", str(tmp_path), "--quit-after", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr[-800:]
    assert "there is no display here" in done.stderr
    assert "Could not load the Qt platform plugin" not in done.stderr


def test_start_at_moves_the_simulated_station_clock_and_is_checked() -> None:
    from datetime import UTC, datetime

    from kiosk.runtime.clock import ShiftedClock

    start = datetime.fromisoformat("2026-12-07T00:20+01:00")
    clock = ShiftedClock(start)
    assert abs((clock.now() - start).total_seconds()) < 60
    assert clock.now().tzinfo is UTC
    for args, message in (
        (["--simulate", "--start-at", "2026-12-07T00:20"], "give a time zone"),
        (["--simulate", "--start-at", "Monday"], "expected an ISO time"),
        (
            ["--config", str(SAMPLE_CONFIG), "--start-at", "2026-12-07T00:20+01:00"],
            "need --simulate",
        ),
    ):
        done = evkiosk("run", *args)  # main(argv), in this process: refused before the app starts
        assert done.returncode == 2 and message in done.stderr, done.stderr


def test_a_tap_with_a_timeout_waits_for_its_button_then_fails_naming_it(tmp_path: Path) -> None:
    scenario = tmp_path / "tap.toml"
    scenario.write_text(
        '[[step]]\ndo = "wait_for"\npage = "idle"\n\n'
        '[[step]]\ndo = "tap"\nbutton = "tile_1"\ntimeout = 30\n\n'  # there once devices answer
        '[[step]]\ndo = "tap"\nbutton = "stop"\ntimeout = 1\n'
    )
    done = subprocess.run(
        [*EVKIOSK, "--simulate", "--state", str(tmp_path / "s"), "--scenario", str(scenario)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "intent ChooseConnector(connector_id='1')" in done.stderr  # waited for, then tapped
    assert "step 3 (tap button='stop' timeout=1.0) failed: no button 'stop'" in done.stderr
