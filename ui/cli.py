"""Start the kiosk app.

`evkiosk run --simulate` runs the whole station on simulated hardware: card terminal, meter,
charge controller, all speaking their real protocols on 127.0.0.1, with a simulator control
panel beside the kiosk window. Without a display, run it with QT_QPA_PLATFORM=offscreen and
--screenshots DIR to watch it as PNG files.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from platformdirs import user_state_dir

from kiosk.config import ConfigError, StationConfig, load_config
from kiosk.logs import add_logging_arguments, setup_from_arguments
from kiosk.runtime.clock import ShiftedClock
from kiosk.scenario import ScenarioError, load_scenario
from kiosk.watchdog import Notifier
from ui.composition import Assembly, CompositionError, assemble

# isort: split
# PySide6 inspects the source of every module imported after it (its __feature__ hook): the
# station's own stack above is loaded first, so only the window's modules pay for that.
from ui import app as kiosk_app
from ui.heartbeat import Keepalive, MachineHeartbeat, StatusReporter, max_heartbeat_age
from ui.platform_check import xcb_problem
from ui.qt import QApplication, QTimer
from ui.scenario_player import ScenarioPlayer
from ui.settings import SettingsError, UiSettings, hash_pin, load_settings
from ui.simulated_station import vnc_platform, with_connectors
from ui.window import KioskWindow

SAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "assets" / "samples" / "station.toml"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--simulate", action="store_true", help="use simulated terminal, meters and controllers"
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help="station config (TOML); with --simulate the sample station is the default",
    )
    parser.add_argument(
        "--ui-config",
        metavar="FILE",
        type=Path,
        help="touchscreen settings (default: ui.toml beside the station config)",
    )
    parser.add_argument(
        "--state",
        metavar="DIR",
        type=Path,
        help="where the simulated station keeps its journal (default: the user state dir)",
    )
    parser.add_argument("--size", metavar="WxH", help="window size in development (1280x800)")
    parser.add_argument("--kiosk", action="store_true", help="full-screen, frameless, no cursor")
    parser.add_argument(
        "--screenshots", metavar="DIR", type=Path, help="write the screen as PNG every few seconds"
    )
    parser.add_argument(
        "--screenshot-every", metavar="S", type=float, default=2.0, help="seconds between PNGs"
    )
    parser.add_argument(
        "--quit-after", metavar="S", type=float, help="exit after S seconds (demos, smoke tests)"
    )
    parser.add_argument(
        "--hash-pin",
        action="store_true",
        help="read a service PIN and print the line for ui.toml, then exit",
    )
    parser.add_argument(
        "--connectors",
        metavar="N",
        type=int,
        help="with --simulate: a station with N connectors (copies of the configured ones)",
    )
    parser.add_argument(
        "--vnc",
        metavar=":PORT",
        help="headless: show the app through Qt's VNC platform on this port (e.g. :5900)",
    )
    parser.add_argument(
        "--scenario",
        metavar="FILE",
        type=Path,
        help="with --simulate: replay a scenario file (timed simulator events and taps)",
    )
    parser.add_argument(
        "--start-at",
        metavar="ISO_TIME",
        type=_start_at,
        help="with --simulate: the station's clock starts at this time "
        "(e.g. 2026-12-07T00:20+01:00), to see the prices of another hour or day",
    )
    parser.add_argument(
        "--keep-open",
        action="store_true",
        help="keep running after the scenario ends (default: exit, 0 if every step was done)",
    )
    add_logging_arguments(parser)


def _start_at(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected an ISO time, e.g. 2026-12-07T00:20+01:00"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r}: give a time zone, e.g. +01:00")
    return moment


def _size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise ValueError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1280x800")
    return int(width), int(height)


def _hash_pin() -> int:
    pin = getpass.getpass("service PIN (digits): ") if sys.stdin.isatty() else sys.stdin.readline()
    pin = pin.strip()
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        print("evkiosk run: the PIN must be 4 to 12 digits", file=sys.stderr)
        return EXIT_USAGE
    print(f'service_pin_hash = "{hash_pin(pin)}"')
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.hash_pin:
        return _hash_pin()
    try:
        size = _size(args.size)
        config_path = args.config or (SAMPLE_CONFIG if args.simulate else None)
        if config_path is None:
            raise ValueError("--config FILE is required without --simulate")
        config = load_config(config_path)
        scenario = None
        simulated_only = (args.connectors, args.scenario, args.start_at)
        if any(a is not None for a in simulated_only) and not args.simulate:
            raise ValueError("--connectors, --scenario and --start-at need --simulate")
        if args.connectors is not None:
            config = with_connectors(config, args.connectors)
        if args.scenario is not None:
            scenario = load_scenario(args.scenario)
        if args.vnc is not None:
            os.environ["QT_QPA_PLATFORM"] = vnc_platform(args.vnc, size)
        ui_path = args.ui_config or config_path.with_name("ui.toml")
        settings = load_settings(ui_path)
    except (ValueError, ConfigError, SettingsError, OSError) as exc:
        print(f"evkiosk run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args.scenario_loaded = scenario
    problem = xcb_problem()
    if problem is not None:
        print(f"evkiosk run: {problem}", file=sys.stderr)
        return EXIT_FAILURE
    if args.kiosk:
        settings = replace(settings, kiosk=True, hide_cursor=True)
    state = args.state or Path(user_state_dir("evkiosk")) / ("simulated" if args.simulate else "")
    return _run_app(args, config, settings, size, state)


def _run_app(
    args: argparse.Namespace,
    config: StationConfig,
    settings: UiSettings,
    size: tuple[int, int] | None,
    state: Path,
) -> int:
    setup_from_arguments(args)
    kiosk_app.configure_logging()
    log = logging.getLogger("ui.cli")
    notifier = Notifier()
    try:
        clock = None if args.start_at is None else ShiftedClock(args.start_at)
        assembly = assemble(
            config, simulate=args.simulate, state_dir=state, clock=clock, after_first_frame=True
        )
    except CompositionError as exc:
        print(f"evkiosk run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"evkiosk run: a device could not be opened: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    parts = kiosk_app.build(
        assembly.runtime,
        settings=settings,
        zone=assembly.zone,
        service=assembly.service,
        simulator=assembly.simulator,
        clock=None if clock is None else clock.now,  # countdowns on the station's clock
    )
    kiosk_app.install_error_handler(parts.window)
    kiosk_app.when_first_frame(parts, assembly.first_frame_shown)
    player = None
    if args.scenario_loaded is not None and assembly.simulator is not None:
        try:
            player = ScenarioPlayer(
                args.scenario_loaded,
                parts.window,
                assembly.simulator,
                panel=parts.panel,
                screenshots=args.screenshots,
            )
        except ScenarioError as exc:
            print(f"evkiosk run: {args.scenario}: {exc}", file=sys.stderr)
            parts.bridge.close()
            assembly.stop()
            return EXIT_USAGE
    kiosk_app.show(parts, settings, size)
    if args.screenshots:
        kiosk_app.snap_periodically(parts, args.screenshots, args.screenshot_every)
    if args.quit_after is not None:
        QTimer.singleShot(int(args.quit_after * 1000), qt_app.quit)
    keepalive = Keepalive(notifier, MachineHeartbeat(assembly.runtime), max_heartbeat_age(notifier))
    # The timer also lets Python run its signal handlers while Qt's loop waits.
    beat = QTimer(qt_app)
    beat.timeout.connect(keepalive.beat)
    beat.start(500)
    signal.signal(signal.SIGTERM, lambda *_: qt_app.quit())
    if assembly.csms is not None and assembly.csms.reset is not None:
        # A CSMS's Reset: the same clean stop as SIGTERM; the service manager starts it again.
        assembly.csms.reset.restart = lambda: os.kill(os.getpid(), signal.SIGTERM)
    # Recovery may talk to the terminal: never on the GUI thread.
    starter = threading.Thread(
        target=_start_then_notify,
        args=(assembly, notifier, keepalive, config.name),
        name="runtime-start",
        daemon=True,
    )
    starter.start()
    scenario_ok = [True]
    if player is not None:
        _play_when_ready(
            player, keepalive, parts.window, qt_app.exit, scenario_ok, keep_open=args.keep_open
        )
    mode = "simulated hardware" if args.simulate else "configured hardware"
    where = f" (screenshots in {args.screenshots})" if args.screenshots else ""
    platform = os.environ.get("QT_QPA_PLATFORM", "default display")
    print(f"evkiosk run: {config.name} on {mode}, display {platform}{where}", file=sys.stderr)
    try:
        code = qt_app.exec()
    finally:
        beat.stop()
        notifier.stopping()
        parts.bridge.close()
        assembly.cancel_start()
        starter.join(10)
        assembly.stop()
        log.info("stopped")
    return EXIT_OK if code == 0 and scenario_ok[0] else EXIT_FAILURE


def _start_then_notify(
    assembly: Assembly, notifier: Notifier, keepalive: Keepalive, name: str
) -> None:
    """Start the runtime (recovery first); only then tell systemd the kiosk is ready."""
    assembly.start()
    keepalive.ready = True
    notifier.ready(f"{name}: running")
    notifier.watchdog()
    if notifier.enabled:
        assembly.runtime.subscribe(StatusReporter(notifier))


def _play_when_ready(
    player: ScenarioPlayer,
    keepalive: Keepalive,
    window: KioskWindow,
    exit_app: Callable[[int], None],
    result: list[bool],
    *,
    keep_open: bool,
) -> None:
    """Start the scenario once the runtime runs and the first snapshot is on screen."""

    def finished(ok: bool) -> None:
        result[0] = ok
        if not keep_open:
            exit_app(0 if ok else 1)

    def poll() -> None:
        if keepalive.ready and window.snapshot is not None:
            waiting.stop()
            player.start()

    player.finished.connect(finished)
    waiting = QTimer(player)
    waiting.timeout.connect(poll)
    waiting.start(100)
