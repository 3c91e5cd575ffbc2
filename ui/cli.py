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
from typing import TYPE_CHECKING

from platformdirs import user_state_dir

from kiosk.config import ConfigError, StationConfig, load_config
from kiosk.logs import add_logging_arguments, setup_from_arguments
from kiosk.runtime.clock import ShiftedClock
from kiosk.scenario import ScenarioError, load_scenario
from kiosk.watchdog import Notifier
from ui.starting import CompositionError, StationStart

# isort: split
# PySide6 inspects the source of every module imported after it (its __feature__ hook): what
# the first frame needs from the core is loaded above it. The station's stack comes after the
# first frame (ui.starting) and pays that there.
from ui import app as kiosk_app
from ui.heartbeat import Keepalive, MachineHeartbeat, StatusReporter, max_heartbeat_age
from ui.platform_check import xcb_problem
from ui.qt import QApplication, QObject, Qt, QTimer, Signal
from ui.scenario_player import ScenarioPlayer
from ui.settings import SettingsError, UiSettings, hash_pin, load_settings
from ui.signal_wakeup import SignalWakeup
from ui.simulated_station import vnc_platform, with_connectors
from ui.window import KioskWindow

if TYPE_CHECKING:
    from ui.composition import Assembly

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
        "--quit-after",
        metavar="S",
        type=float,
        help="exit S seconds after the station is built (demos, smoke tests)",
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
    clock = None if args.start_at is None else ShiftedClock(args.start_at)
    # The idle screen first, from the config alone; the station (journal, devices,
    # simulators, backend) is built once it is painted (ui.starting).
    start = StationStart(config, simulate=args.simulate, state_dir=state, clock=clock)
    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    parts = kiosk_app.build(
        start.station,
        settings=settings,
        zone=start.zone,
        service=start.service,
        clock=None if clock is None else clock.now,  # countdowns on the station's clock
    )
    kiosk_app.install_error_handler(parts.window)
    kiosk_app.when_first_frame(parts, start.first_frame_shown)
    kiosk_app.show(parts, settings, size, panel=args.simulate)
    if args.screenshots:
        kiosk_app.snap_periodically(parts, args.screenshots, args.screenshot_every)
    keepalive = Keepalive(notifier, None, max_heartbeat_age(notifier))
    beat = QTimer(qt_app)
    beat.timeout.connect(keepalive.beat)
    if notifier.watchdog_interval_s is not None:  # under systemd's watchdog: ping in time
        beat.start(max(100, int(notifier.watchdog_interval_s * 1000 / 4)))
    wakeup = SignalWakeup(qt_app)
    signal.signal(signal.SIGTERM, lambda *_: qt_app.quit())
    outcome = [EXIT_OK]  # the code to exit with, unless Qt's loop itself failed
    news = _StartNews()

    def failed(message: str, code: int) -> None:
        print(f"evkiosk run: {message}", file=sys.stderr)
        outcome[0] = code
        qt_app.exit(code)

    def built(assembly: Assembly) -> None:  # on the GUI thread, while the runtime starts
        if args.quit_after is not None:  # counted from here: a busy machine builds it later
            QTimer.singleShot(int(args.quit_after * 1000), qt_app.quit)
        if assembly.simulator is None:
            return
        kiosk_app.add_simulator(parts, assembly.simulator)
        if args.scenario_loaded is None:
            return
        try:
            player = ScenarioPlayer(
                args.scenario_loaded,
                parts.window,
                assembly.simulator,
                panel=parts.panel,
                screenshots=args.screenshots,
            )
        except ScenarioError as exc:
            failed(f"{args.scenario}: {exc}", EXIT_USAGE)
            return
        _play_when_ready(
            player, keepalive, parts.window, qt_app.exit, outcome, keep_open=args.keep_open
        )

    # Emitted on the thread that builds the station, run on this one (the panel, the player).
    news.failed.connect(failed, Qt.ConnectionType.QueuedConnection)
    news.built.connect(built, Qt.ConnectionType.QueuedConnection)
    # Building the station imports its stack and recovery may talk to the terminal: never on
    # the GUI thread.
    starter = threading.Thread(
        target=_start_then_notify,
        args=(start, news, notifier, keepalive, config.name),
        name="runtime-start",
        daemon=True,
    )
    starter.start()
    mode = "simulated hardware" if args.simulate else "configured hardware"
    where = f" (screenshots in {args.screenshots})" if args.screenshots else ""
    platform = os.environ.get("QT_QPA_PLATFORM", "default display")
    print(f"evkiosk run: {config.name} on {mode}, display {platform}{where}", file=sys.stderr)
    try:
        code = qt_app.exec()
    finally:
        beat.stop()
        wakeup.close()
        notifier.stopping()
        parts.bridge.close()
        start.cancel()
        starter.join(10)
        start.stop()
        log.info("stopped")
    if outcome[0] != EXIT_OK:
        return outcome[0]
    return EXIT_OK if code == 0 else EXIT_FAILURE


class _StartNews(QObject):
    """From the thread that builds the station to the GUI thread (queued signals)."""

    built = Signal(object)  # the Assembly, before its runtime starts
    failed = Signal(str, int)  # what to tell the installer, the exit code


def _start_then_notify(
    start: StationStart, news: _StartNews, notifier: Notifier, keepalive: Keepalive, name: str
) -> None:
    """Build and start the station (recovery first); only then tell systemd it is ready."""
    heartbeat: list[MachineHeartbeat] = []

    def assembled(assembly: Assembly) -> None:
        heartbeat.append(MachineHeartbeat(assembly.runtime))  # before its machine runs
        csms = assembly.csms
        if csms is not None and csms.reset is not None:
            # A CSMS's Reset: the same clean stop as SIGTERM; the service manager starts it again.
            csms.reset.restart = lambda: os.kill(os.getpid(), signal.SIGTERM)
        news.built.emit(assembly)

    try:
        start.run(assembled)
    except CompositionError as exc:
        news.failed.emit(str(exc), EXIT_USAGE)
        return
    except OSError as exc:
        news.failed.emit(f"a device could not be opened: {exc}", EXIT_FAILURE)
        return
    except Exception as exc:  # the screen would say "connecting…" for ever: stop instead
        logging.getLogger("ui.cli").exception("the station could not be started")
        news.failed.emit(f"the station could not be started: {exc}", EXIT_FAILURE)
        return
    if start.assembly is None or not heartbeat:
        return  # the app quit before the station was built
    keepalive.running(heartbeat[0])
    notifier.ready(f"{name}: running")
    notifier.watchdog()
    if notifier.enabled:
        start.assembly.runtime.subscribe(StatusReporter(notifier))


def _play_when_ready(
    player: ScenarioPlayer,
    keepalive: Keepalive,
    window: KioskWindow,
    exit_app: Callable[[int], None],
    outcome: list[int],
    *,
    keep_open: bool,
) -> None:
    """Start the scenario once the runtime runs and the first snapshot is on screen."""

    def finished(ok: bool) -> None:
        outcome[0] = EXIT_OK if ok else EXIT_FAILURE
        if not keep_open:
            exit_app(outcome[0])

    def poll() -> None:
        if keepalive.ready and window.snapshot is not None:
            waiting.stop()
            player.start()

    player.finished.connect(finished)
    waiting = QTimer(player)
    waiting.timeout.connect(poll)
    waiting.start(100)
