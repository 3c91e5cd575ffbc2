"""An idle screen repaints only what changed: the window's refresh ticks must not repaint
unchanged status icons (each paint re-renders an SVG)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from uirig import Kiosk

from ui.qt import QApplication, QEvent, QObject, QPaintEvent
from ui.widgets import StatusIcon


class CountingIcon(StatusIcon):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def paintEvent(self, event: QPaintEvent) -> None:
        self.paints += 1
        super().paintEvent(event)


def test_setting_the_same_icon_again_does_not_repaint(qtbot: Any) -> None:
    icon = CountingIcon()
    qtbot.addWidget(icon)
    icon.set_icon("available.svg", 32)
    icon.show()
    qtbot.waitExposed(icon)
    qtbot.waitUntil(lambda: icon.paints > 0)
    before = icon.paints
    for _ in range(20):  # 20 refresh ticks of an idle screen
        icon.set_icon("available.svg", 32)
        QApplication.processEvents()
    assert icon.paints == before
    icon.set_icon("busy.svg", 32)  # a change repaints
    qtbot.waitUntil(lambda: icon.paints > before)


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0
        self.painted: list[str] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
            self.painted.append(f"{type(watched).__name__} {watched.objectName()}")
        return False


def test_an_idle_screen_paints_nothing_between_snapshots(kiosk: Kiosk, qtbot: Any) -> None:
    kiosk.window.resize(800, 480)
    kiosk.window.show()
    qtbot.waitExposed(kiosk.window)
    kiosk.show("idle")
    kiosk.window.grab()  # everything laid out and painted once
    qtbot.wait(100)  # and what the show posted (language buttons' first paint) is done
    counter = PaintCounter()
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(counter)
    try:
        for _ in range(20):  # 5 s of 250 ms window ticks
            kiosk.tick(0.25)
            QApplication.processEvents()
        assert counter.paints == 0, counter.painted
        kiosk.show(replace(kiosk.window.snapshot, seq=kiosk.window.snapshot.seq + 1,
                           station_name="Renamed"))  # fmt: skip
        QApplication.processEvents()
        assert counter.paints > 0  # a new snapshot that changes something is painted
    finally:
        app.removeEventFilter(counter)
