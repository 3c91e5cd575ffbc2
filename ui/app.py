"""The app around the window: Qt application, kiosk or development window, the bridge to the
runtime, the last-resort error handler, and headless screenshots for demos without a display."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from types import TracebackType

from kiosk.logs import quiet_libraries
from ui.bridge import SnapshotBridge
from ui.i18n import Language, load_languages
from ui.logbuffer import RING
from ui.ports import ServicePort, SimulatorPort, StationPort
from ui.qt import QApplication, QGuiApplication, QRect, Qt, QTimer, QWidget
from ui.settings import UiSettings
from ui.window import KioskWindow, utc_now

log = logging.getLogger(__name__)


@dataclass
class AppParts:
    window: KioskWindow
    bridge: SnapshotBridge
    panel: QWidget | None = None
    timers: list[QTimer] = field(default_factory=list)


def screen_dpi(default: float = 96.0) -> float:
    screen = QGuiApplication.primaryScreen()
    return float(screen.physicalDotsPerInch()) if screen is not None else default


def build(
    station: StationPort,
    *,
    settings: UiSettings | None = None,
    languages: dict[str, Language] | None = None,
    zone: tzinfo | None = None,
    service: ServicePort | None = None,
    simulator: SimulatorPort | None = None,
    clock: Callable[..., object] | None = None,
) -> AppParts:
    """The window wired to the runtime through the bridge (a QApplication must exist)."""
    settings = settings or UiSettings()
    bridge = SnapshotBridge(station)
    window = KioskWindow(
        languages or load_languages(),
        bridge.send,
        settings=settings,
        clock=clock or utc_now,  # type: ignore[arg-type]
        zone=zone or UTC,
        service=service,
        dpi=screen_dpi(),
    )
    bridge.snapshot.connect(window.show_snapshot)
    bridge.attach()
    parts = AppParts(window, bridge)
    if simulator is not None:
        add_simulator(parts, simulator)
    return parts


def add_simulator(parts: AppParts, simulator: SimulatorPort) -> None:
    """The simulator's control panel, offered in the service menu, and beside the window if
    that is already shown (a simulated station's panel comes once its simulators run)."""
    from ui.simpanel import SimulatorPanel  # noqa: PLC0415 (simulated stations only)

    panel = SimulatorPanel(simulator)
    parts.panel = panel
    parts.window.service.offer_simulator(panel.show)
    if parts.window.isVisible():
        place_panel(parts.window, panel, _screen_area())
        panel.show()


def when_first_frame(parts: AppParts, callback: Callable[[], None]) -> None:
    """Call back once the first snapshot has been drawn and the event loop is free again (its
    paint is done, tests/ui/test_backend_client_and_kiosk_mode.py): the moment to start what
    the idle screen need not wait for."""

    def drawn(_: object) -> None:
        parts.bridge.snapshot.disconnect(drawn)
        QTimer.singleShot(0, callback)

    parts.bridge.snapshot.connect(drawn)


def install_error_handler(window: KioskWindow) -> None:
    """An exception nobody caught: log it, settle the session's money, show the safe page."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.critical("unhandled exception", exc_info=(kind, exc, tb))
        if isinstance(exc, KeyboardInterrupt):
            QApplication.quit()
            return
        window.show_error(exc)

    sys.excepthook = hook


def _screen_area() -> QRect:
    screen = QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1920, 1080)


def show(
    parts: AppParts, settings: UiSettings, size: tuple[int, int] | None, *, panel: bool = False
) -> None:
    """`panel`: a simulator panel will come (see add_simulator), so a kiosk window leaves
    room for it rather than going full screen."""
    window = parts.window
    area = _screen_area()
    if settings.kiosk:
        window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        if parts.panel is None and not panel:
            window.showFullScreen()
        else:
            window.setGeometry(area)  # full screen, less the simulator panel's strip below
    else:
        window.resize(*(size or (1280, 800)))
        window.setWindowTitle("evkiosk")
    if settings.hide_cursor:
        QApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)
    if parts.panel is not None:
        place_panel(window, parts.panel, area)
    window.show()
    if parts.panel is not None:
        parts.panel.show()


def place_panel(window: QWidget, panel: QWidget, area: QRect) -> None:
    """The simulator panel beside the kiosk, or docked at the screen's edge: never over it."""
    from ui.simpanel import placement  # noqa: PLC0415 (simulated stations only)

    kiosk, beside = placement(area, QRect(window.pos(), window.size()))
    window.setGeometry(kiosk)
    panel.setGeometry(beside)


def snap_periodically(parts: AppParts, directory: Path, every_s: float) -> None:
    """Headless demo: write the screen (and the simulator panel) as PNGs every few seconds."""
    directory.mkdir(parents=True, exist_ok=True)
    count = [0]

    def shoot() -> None:
        count[0] += 1
        parts.window.grab().save(str(directory / f"kiosk-{count[0]:04d}.png"))
        if parts.panel is not None:
            parts.panel.grab().save(str(directory / "simulator-panel.png"))

    timer = QTimer()
    timer.setInterval(int(every_s * 1000))
    timer.timeout.connect(shoot)
    timer.start()
    parts.timers.append(timer)


def configure_logging() -> None:
    root = logging.getLogger()
    if RING not in root.handlers:
        root.addHandler(RING)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    quiet_libraries(root.level)
