"""An idle screen repaints only what changed: the window's refresh ticks must not repaint
unchanged status icons (each paint re-renders an SVG)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from uirig import Kiosk

from ui import preview
from ui.qt import QApplication, QEvent, QObject, QPaintEvent, QScroller
from ui.service import ServiceMenu
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
    qtbot.waitUntil(lambda: icon.paints > 0, timeout=60_000)
    before = icon.paints
    for _ in range(20):  # 20 refresh ticks of an idle screen
        icon.set_icon("available.svg", 32)
        QApplication.processEvents()
    assert icon.paints == before
    icon.set_icon("busy.svg", 32)  # a change repaints
    qtbot.waitUntil(lambda: icon.paints > before, timeout=60_000)


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


class StyleCounter(QObject):
    """Counts style sheets set on the watched widget (each re-polishes every widget below)."""

    def __init__(self) -> None:
        super().__init__()
        self.changes = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.StyleChange:
            self.changes += 1
        return False


def test_the_first_snapshot_and_ticks_set_no_style_sheet_again(kiosk: Kiosk) -> None:
    # The window's style sheet is set when it is built; the first snapshot (language buttons
    # rebuilt, text size fitted to the page) and the ticks after it do not change the sheet,
    # so they must not set it again. A change of mode does.
    counter = StyleCounter()
    kiosk.window.installEventFilter(counter)
    kiosk.show("idle")
    for _ in range(8):
        kiosk.tick(0.25)
        QApplication.processEvents()
    kiosk.window.resize(800, 480)  # the same size again
    assert counter.changes == 0
    lang = kiosk.window.lang_buttons[kiosk.window.lang_code]
    assert lang.font().pixelSize() == kiosk.window.large_button.font().pixelSize()
    kiosk.window.set_high_contrast(True)
    assert counter.changes > 0
    kiosk.window.removeEventFilter(counter)


def test_the_service_menu_is_built_when_first_opened(kiosk: Kiosk) -> None:
    # The installer's menu (six tabs, its own style sheet) is not built for the first frame.
    kiosk.show("idle")
    assert kiosk.window.findChildren(ServiceMenu) == []
    kiosk.window.long_press.fire_for_test()
    (menu,) = kiosk.window.findChildren(ServiceMenu)
    assert menu.isVisible() and not menu.unlocked
    assert "font-size" in menu.styleSheet()  # styled at the panel's normal text size


def test_pages_other_than_idle_and_error_are_built_when_first_shown(kiosk: Kiosk) -> None:
    # The style sheet polishes every widget in the window before the first frame: the pages a
    # driver has not reached yet are not there to polish.
    kiosk.show("idle")
    assert set(kiosk.window.pages.built()) == {"idle", "error"}
    assert len(kiosk.window.pages) == 12  # every page is known by name
    price = kiosk.show("price").stack.currentWidget()
    assert kiosk.window.current_page == "price"
    assert set(kiosk.window.pages.built()) == {"idle", "error", "price"}
    assert price.objectName() == "page_price" and price.isVisible()
    kiosk.show("idle")
    assert kiosk.window.pages["price"] is price  # built once


def test_the_window_clock_stops_on_the_idle_page_and_runs_where_time_moves(kiosk: Kiosk) -> None:
    # Nothing on the idle page moves with the clock: its 250 ms tick stops after one idle
    # tick; a page with a countdown or a running session, or the service menu, starts it.
    kiosk.show("idle")
    kiosk.tick(0.25)
    assert not kiosk.window.timer.isActive()
    kiosk.show("charging")
    assert kiosk.window.timer.isActive()
    kiosk.tick(0.25)
    assert kiosk.window.timer.isActive()
    kiosk.show(replace(preview.all_screens()["idle"], seq=10**6))
    kiosk.tick(0.25)
    assert not kiosk.window.timer.isActive()
    kiosk.window.long_press.fire_for_test()
    assert kiosk.window.timer.isActive()


def test_the_page_area_viewport_is_the_windows_own_and_scrolls_by_touch(
    kiosk: Kiosk, qtbot: Any
) -> None:
    # The window makes the scroll area's viewport itself (asking Qt for the default one costs
    # the binding ~80 enum types at start): it must still be the viewport the page is fitted
    # to, with touch scrolling and the resize filter on it.
    window = kiosk.window
    assert window.page_area.viewport() is window.viewport
    assert QScroller.hasScroller(window.viewport)
    window.resize(800, 480)
    window.show()
    qtbot.waitExposed(window)
    kiosk.show("idle")
    window.resize(700, 420)
    qtbot.waitUntil(lambda: window.stack.width() == window.viewport.width(), timeout=60_000)
    assert window.stack.height() >= window.viewport.height()
