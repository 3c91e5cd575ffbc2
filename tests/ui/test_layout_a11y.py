"""Layouts at every panel size, touch targets, contrast, text size and contrast modes."""

from __future__ import annotations

import pytest
from uirig import Kiosk

from ui import preview
from ui.qt import QApplication, QLabel, QPushButton, QWidget
from ui.theme import (
    GRAPHIC_PAIRS,
    PALETTES,
    TEXT_PAIRS,
    Palette,
    contrast_ratio,
    metrics,
    style_sheet,
    touch_target_px,
)

pytestmark = pytest.mark.gui
SIZES = [(800, 480), (1024, 600), (1280, 800), (480, 800), (800, 1280)]


def problems_on_screen(window: QWidget, target: int, area: QWidget | None = None) -> list[str]:
    """Buttons too small or outside `area` (the window), texts cut off."""
    found = []
    area = area or window
    for b in window.findChildren(QPushButton):
        if not b.isVisibleTo(window):
            continue
        name = b.objectName() or b.text()
        if min(b.width(), b.height()) < target:
            found.append(f"button {name!r} is {b.width()}x{b.height()}, under {target} px")
        if b.text():
            widest = max(b.fontMetrics().horizontalAdvance(t) for t in b.text().split("\n"))
            if widest > b.contentsRect().width():
                found.append(f"button {name!r}: text {widest} px wide, room for {b.width()}")
        if not b.isVisibleTo(area) or (not area.isAncestorOf(b) and area is not window):
            continue
        # Inside every ancestor up to `area`: a parent clips what sticks out of it.
        holder = b.parentWidget()
        while holder is not None:
            top_left = b.mapTo(holder, b.rect().topLeft())
            bottom_right = b.mapTo(holder, b.rect().bottomRight())
            if not (holder.rect().contains(top_left) and holder.rect().contains(bottom_right)):
                found.append(f"button {name!r} sticks out of {type(holder).__name__}")
                break
            if holder is area:
                break
            holder = holder.parentWidget()
    for lab in window.findChildren(QLabel):
        if not lab.isVisibleTo(window) or not lab.text() or lab.objectName() == "station_name":
            continue
        if lab.wordWrap():
            needed = lab.heightForWidth(lab.width())
            if lab.height() + 2 < needed:
                found.append(f"text {lab.text()[:40]!r} needs {needed} px, has {lab.height()}")
        elif lab.width() + 2 < lab.sizeHint().width():
            found.append(f"text {lab.text()[:40]!r} is cut at {lab.width()} px")
    return found


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_screen_fits_with_touch_targets_of_15_mm(
    kiosk: Kiosk, width: int, height: int, lang: str
) -> None:
    kiosk.window.resize(width, height)
    target = touch_target_px(kiosk.window.dpi)
    assert target == 57  # 15 mm at 96 dpi
    problems = []
    for name, snap in preview.all_screens().items():
        kiosk.show(snap)
        kiosk.set_language(lang)
        QApplication.processEvents()
        problems += [f"{name}: {p}" for p in problems_on_screen(kiosk.window, target)]
    assert problems == []


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_large_text_pages_scroll_instead_of_cutting_anything(
    kiosk: Kiosk, width: int, height: int
) -> None:
    kiosk.window.resize(width, height)
    kiosk.tap("large_text")
    problems = []
    for name, snap in preview.all_screens().items():
        kiosk.show(snap)
        kiosk.set_language("de")
        QApplication.processEvents()
        page = kiosk.window.stack.currentWidget()
        problems += [f"{name}: {p}" for p in problems_on_screen(kiosk.window, 57, page)]
    assert problems == []
    assert kiosk.window.large_text


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_service_pin_pad_and_menu_fit(kiosk: Kiosk, width: int, height: int) -> None:
    from uirig import PIN

    kiosk.window.resize(width, height)
    kiosk.show("charging")
    kiosk.window.long_press.fire_for_test()
    QApplication.processEvents()
    menu = kiosk.window.service
    problems = problems_on_screen(kiosk.window, 57, menu)
    for digit in PIN:
        menu.press(digit)
    menu.submit_pin()
    QApplication.processEvents()
    problems += problems_on_screen(kiosk.window, 57, menu)
    assert menu.unlocked and problems == []


@pytest.mark.parametrize("lang", ["en", "de"])
def test_a_dense_7_inch_panel_keeps_15_mm_targets_and_cuts_nothing(
    qtbot: object, lang: str
) -> None:
    from uirig import RecordingStation

    from ui.i18n import load_languages
    from ui.settings import UiSettings
    from ui.window import KioskWindow

    window = KioskWindow(load_languages(), RecordingStation().send, settings=UiSettings(dpi=133))
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.resize(800, 480)
    window.show()
    target = touch_target_px(133)
    problems = []
    for name, snap in preview.all_screens().items():
        window.show_snapshot(snap)
        window.set_language(lang)
        QApplication.processEvents()
        page = window.stack.currentWidget()
        problems += [f"{name}: {p}" for p in problems_on_screen(window, target, page)]
    assert problems == []


def test_touch_target_follows_the_configured_dpi() -> None:
    assert touch_target_px(96) == 57
    assert touch_target_px(133) == 79  # a 7" 800x480 panel
    assert touch_target_px(160) == 95


@pytest.mark.parametrize("palette", PALETTES, ids=lambda p: p.name)
def test_palette_meets_wcag_aa(palette: Palette) -> None:
    for fg, bg in TEXT_PAIRS:
        ratio = contrast_ratio(getattr(palette, fg), getattr(palette, bg))
        assert ratio >= 4.5, f"{palette.name}: {fg} on {bg} is {ratio:.2f}:1"
    for fg, bg in GRAPHIC_PAIRS:
        ratio = contrast_ratio(getattr(palette, fg), getattr(palette, bg))
        assert ratio >= 3.0, f"{palette.name}: {fg} against {bg} is {ratio:.2f}:1"


def test_contrast_formula_matches_known_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_no_hover_styles_anywhere() -> None:
    for palette in PALETTES:
        for large in (False, True):
            assert ":hover" not in style_sheet(palette, metrics(800, 480, 96, large))


def test_large_text_and_high_contrast_are_one_tap_on_any_screen(kiosk: Kiosk) -> None:
    kiosk.show("charging")
    energy = kiosk.find("live_energy")
    before = energy.fontInfo().pixelSize()
    kiosk.tap("large_text")
    assert energy.fontInfo().pixelSize() > before
    kiosk.tap("high_contrast")
    assert "background: #000000" in kiosk.window.styleSheet()
    kiosk.tap("high_contrast")
    assert "background: #000000" not in kiosk.window.styleSheet()


def test_large_text_mode_meets_the_en_301_549_cap_height() -> None:
    # EN 301 549 5.1.4: cap height of at least 0.7 degrees; at 500 mm that is 6.1 mm.
    # DejaVu Sans, the bundled system font, has a cap height of 0.729 em.
    for dpi in (96, 133, 160):
        for width, height in SIZES:
            m = metrics(width, height, dpi, large_text=True)
            cap_mm = m.base * 0.729 / dpi * 25.4
            assert cap_mm >= 6.1, (dpi, width, height, cap_mm)


def test_in_a_column_the_main_action_comes_first(kiosk: Kiosk) -> None:
    kiosk.show("price")
    accept, cancel = kiosk.find("accept_price"), kiosk.find("cancel")
    assert accept.x() > cancel.x() and accept.y() == cancel.y()  # a row: Cancel | Accept
    kiosk.tap("large_text")
    QApplication.processEvents()
    # Large text on a landscape panel keeps the row: both stay on screen, nothing scrolls.
    assert accept.x() > cancel.x() and accept.y() == cancel.y()
    kiosk.window.resize(480, 800)
    QApplication.processEvents()
    assert accept.y() < cancel.y()  # a column on a portrait panel: Accept above Cancel


def test_large_text_is_as_large_as_each_page_allows(kiosk: Kiosk) -> None:
    kiosk.window.resize(1280, 800)
    kiosk.show("charging")
    cap = kiosk.window.pages["charging"].cap  # type: ignore[attr-defined]
    normal = cap.fontInfo().pixelSize()
    kiosk.tap("large_text")
    QApplication.processEvents()
    assert cap.fontInfo().pixelSize() > normal * 5 // 4  # the page has room for large text
    kiosk.window.resize(800, 480)
    QApplication.processEvents()
    stop = kiosk.find("stop")
    viewport = kiosk.window.page_area.viewport()
    assert stop.mapTo(viewport, stop.rect().bottomLeft()).y() < viewport.height()
    assert kiosk.window.stack.height() <= viewport.height()  # nothing scrolls
