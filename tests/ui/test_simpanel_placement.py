"""The simulator panel opens beside the kiosk, or docked at the screen's edge: never over it,
also on a bare X server (Xvfb) where no window manager places new windows."""

from __future__ import annotations

import pytest
from uirig import RecordingStation

from ui import app as kiosk_app
from ui.i18n import load_languages
from ui.qt import QApplication, QGuiApplication, QRect, QSize, QWidget
from ui.settings import UiSettings
from ui.simpanel import placement
from ui.window import KioskWindow

pytestmark = pytest.mark.gui
PANEL = QSize(420, 640)


def test_beside_the_kiosk_when_the_screen_has_room() -> None:
    kiosk = QRect(0, 0, 1280, 800)
    same, panel = placement(QRect(0, 0, 1920, 1080), kiosk, PANEL)
    assert same == kiosk
    assert panel == QRect(1280, 0, 420, 640)


def test_left_of_the_kiosk_when_the_room_is_there() -> None:
    kiosk = QRect(600, 0, 1280, 800)
    same, panel = placement(QRect(0, 0, 1920, 1080), kiosk, PANEL)
    assert same == kiosk and panel == QRect(180, 0, 420, 640)


@pytest.mark.parametrize(
    ("screen", "kiosk"),
    [
        (QRect(0, 0, 1280, 800), QRect(0, 0, 1280, 800)),
        (QRect(0, 0, 800, 480), QRect(0, 0, 800, 480)),
    ],
)
def test_docked_at_the_edge_when_the_kiosk_fills_the_screen(screen: QRect, kiosk: QRect) -> None:
    narrower, panel = placement(screen, kiosk, PANEL)
    assert not narrower.intersects(panel)
    assert screen.contains(narrower) and screen.contains(panel)
    assert panel.right() == screen.right() and panel.height() == screen.height()
    assert narrower.width() + panel.width() == screen.width()


@pytest.mark.parametrize("kiosk_mode", [False, True], ids=["window", "kiosk"])
def test_the_app_shows_the_panel_where_it_covers_nothing(qtbot: object, kiosk_mode: bool) -> None:
    window = KioskWindow(load_languages(), RecordingStation().send, settings=UiSettings(dpi=96))
    panel = QWidget()
    for widget in (window, panel):
        qtbot.addWidget(widget)  # type: ignore[attr-defined]
    parts = kiosk_app.AppParts(window, None, panel)  # type: ignore[arg-type]
    settings = UiSettings(kiosk=kiosk_mode, dpi=96)
    screen = QGuiApplication.primaryScreen()
    assert screen is not None
    area = screen.availableGeometry()
    kiosk_app.show(parts, settings, (area.width() // 2, area.height() // 2))
    QApplication.processEvents()
    assert window.isVisible() and panel.isVisible()
    assert not window.geometry().intersects(panel.geometry())
    frame = 4  # the offscreen platform's pretend window frame moves windows by a few pixels
    assert area.adjusted(-frame, -frame, frame, frame).contains(panel.geometry())
    if kiosk_mode:  # the kiosk keeps the whole screen but the panel's strip
        assert window.width() + panel.width() == area.width()
