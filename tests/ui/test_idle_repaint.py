"""An idle screen repaints only what changed: the window's refresh ticks must not repaint
unchanged status icons (each paint re-renders an SVG)."""

from __future__ import annotations

from typing import Any

from ui.qt import QApplication, QPaintEvent
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
