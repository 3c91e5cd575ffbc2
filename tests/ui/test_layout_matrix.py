"""Every screen, dialog and service tab at every panel size, in every shipped language, in
normal, large-text and high-contrast mode: nothing outside the window, cut, elided,
overlapping or scrolling, no touch target under 15 mm; and no visible text that did not come
through the translation layer (a pseudo-locale marks every translated text and value).

One window per panel size is reused for every combination, so the whole matrix renders in
seconds rather than minutes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from layoutcheck import pseudo_languages, unmarked_rest, view_problems, visible_texts
from uirig import PIN, PIN_HASH, RecordingStation

from kiosk.snapshot import StationSnapshot
from ui import preview
from ui.i18n import Language, load_languages
from ui.qt import QApplication, QWidget
from ui.screens.session import ChargingScreen
from ui.settings import UiSettings
from ui.theme import touch_target_px
from ui.window import KioskWindow

# every screen, language and mode
pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.timeout(900)]

SIZES = [(800, 480), (1024, 600), (1280, 800)]
LANGS = ["en", "de", "fr"]
MODES = ["normal", "large_text", "high_contrast"]
DPI = 96
SERVICE_TABS = ["devices", "holds", "journal", "terminal", "logs", "version"]


def _stop_confirm(w: KioskWindow) -> None:
    charging = w.pages["charging"]
    assert isinstance(charging, ChargingScreen)
    charging.stop.click()


def _error(w: KioskWindow) -> None:
    w.show_error(RuntimeError("layout test"))


def _service(tab: int | None) -> Callable[[KioskWindow], None]:
    def open_it(w: KioskWindow) -> None:
        w.long_press.fire_for_test()
        if tab is None:
            return
        for digit in PIN:
            w.service.press(digit)
        w.service.submit_pin()
        w.service.tabs.setCurrentIndex(tab)

    return open_it


@dataclass(frozen=True)
class Scene:
    name: str
    snapshot: str
    action: Callable[[KioskWindow], None] | None = None


SCREENS = preview.all_screens()
SCENES = [Scene(name, name) for name in SCREENS] + [
    Scene("stop_confirm", "charging", _stop_confirm),
    Scene("error", "charging", _error),
    Scene("service_pin", "charging", _service(None)),
    *(Scene(f"service_{t}", "charging", _service(i)) for i, t in enumerate(SERVICE_TABS)),
]


def make_window(
    languages: dict[str, Language], size: tuple[int, int], dpi: float = DPI
) -> KioskWindow:
    window = KioskWindow(
        languages,
        RecordingStation().send,
        settings=UiSettings(service_pin_hash=PIN_HASH, dpi=dpi),
        clock=lambda: preview.NOW,
    )
    window.resize(*size)
    window.show()
    return window


def render(window: KioskWindow, scene: Scene, lang: str, mode: str) -> None:
    """The scene on a clean window: no overlay, mode or failure left from the one before."""
    window.service.close_menu()
    charging = window.pages["charging"]
    assert isinstance(charging, ChargingScreen)
    charging.confirm.hide()
    window.failed = False
    window.show_snapshot(SCREENS[scene.snapshot])
    if window.lang_code != lang:  # back at idle the window returns to the default language
        window.set_language(lang)
    window.large_button.setChecked(mode == "large_text")
    window.contrast_button.setChecked(mode == "high_contrast")
    if scene.action is not None:
        scene.action(window)
    QApplication.processEvents()


def views(window: KioskWindow) -> list[QWidget]:
    """What to check: an overlay on top if one is up (it covers the page on purpose), else the
    whole window."""
    charging = window.pages["charging"]
    assert isinstance(charging, ChargingScreen)
    overlays = [window.service, window.timeout_warning, charging.confirm]
    up = [o for o in overlays if o.isVisibleTo(window)]
    return up or [window]


def scroll_problem(window: KioskWindow) -> str | None:
    viewport = window.page_area.viewport()
    if (
        window.stack.height() > viewport.height()
        or window.page_area.verticalScrollBar().isVisible()
    ):
        return f"page needs {window.stack.height()} px, the panel shows {viewport.height()}"
    return None


@pytest.fixture(scope="module")
def windows(qapp: QApplication) -> Iterator[dict[tuple[int, int], KioskWindow]]:
    languages = load_languages()
    made = {size: make_window(languages, size) for size in SIZES}
    yield made
    for window in made.values():
        window.close()
        window.deleteLater()
    QApplication.processEvents()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_screen_fits_in_every_language_and_mode(
    windows: dict[tuple[int, int], KioskWindow], size: tuple[int, int], mode: str
) -> None:
    problems = scene_problems(windows[size], touch_target_px(DPI), mode)
    assert problems == [], "\n".join(problems)


def scene_problems(window: KioskWindow, target: int, mode: str) -> list[str]:
    problems: list[str] = []
    for lang in LANGS:
        for scene in SCENES:
            render(window, scene, lang, mode)
            where = f"{lang} {scene.name}"
            if not window.service.isVisible() and (p := scroll_problem(window)):
                problems.append(f"{where}: {p}")
            for view in views(window):
                problems += [f"{where}: {p}" for p in view_problems(view, window, target)]
    return problems


# Each panel size as it is sold, at the dpi its station configures in [ui] (docs/ui.md): a 7"
# 800x480 (133 dpi, 15 mm = 79 px), a 7" 1024x600 (170 dpi, 101 px), a 10.1" 1280x800 (149 dpi,
# 88 px); the matrix above keeps 96 dpi (57 px), where the text is set smallest.
PANELS = [((800, 480), 133), ((1024, 600), 170), ((1280, 800), 149)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("size", "dpi"), PANELS, ids=[f"{w}x{h}@{dpi}dpi" for (w, h), dpi in PANELS]
)
def test_every_screen_fits_each_panel_at_its_configured_dpi(
    qapp: QApplication, size: tuple[int, int], dpi: int, mode: str
) -> None:
    window = make_window(load_languages(), size, dpi)
    try:
        problems = scene_problems(window, touch_target_px(dpi), mode)
    finally:
        window.close()
        window.deleteLater()
    assert problems == [], "\n".join(problems)


def station_data(snap: StationSnapshot, service: bool) -> list[str]:
    """Texts the station supplies as they are: its name, ids, the card terminal's own display
    text, the card brand and (in the service menu) the device's technical detail."""
    views_ = [v for v in (snap.focus, *snap.background) if v is not None]
    data = [snap.station_name]
    data += [t.connector_id for t in snap.connectors]
    if service:
        data += [t.status_reason or "" for t in snap.connectors]
        data += ["evkiosk"]  # the product's name
    data += [v.session_id for v in views_]
    data += [v.terminal_text or "" for v in views_]
    data += [text for v in views_ for _, text in v.alt_text]  # the tariff's own words
    data += [v.receipt.masked_pan or "" for v in views_ if v.receipt]
    data += [v.receipt.card_brand or "" for v in views_ if v.receipt]
    return data


def test_every_visible_text_comes_through_the_translation_layer(qapp: QApplication) -> None:
    window = make_window(pseudo_languages(load_languages()), (1280, 800))
    problems: list[str] = []
    try:
        for lang in LANGS:
            for scene in SCENES:
                if scene.name == "service_logs":
                    continue  # log records are for developers, in English by design
                render(window, scene, lang, "normal")
                snap = SCREENS[scene.snapshot]
                data = station_data(snap, scene.name.startswith("service"))
                for view in views(window):
                    for widget, text in visible_texts(view, window):
                        if widget.objectName() == "station_name":
                            continue
                        rest = unmarked_rest(text, data)
                        if rest:
                            name = widget.objectName() or type(widget).__name__
                            problems.append(f"{lang} {scene.name} {name}: {text!r}")
    finally:
        window.close()
        window.deleteLater()
    assert problems == []


def test_the_checks_catch_a_cut_button_an_overlap_and_an_untranslated_text(
    qapp: QApplication,
) -> None:
    from layoutcheck import mark

    from ui.qt import QLabel, QPushButton

    box = QWidget()
    box.resize(200, 100)
    wide = QPushButton("a text far too long for its button", box)
    wide.setGeometry(0, 0, 60, 60)
    over = QLabel("on top", box)
    over.setGeometry(10, 10, 80, 20)
    out = QPushButton("x", box)
    out.setGeometry(180, 80, 60, 60)
    box.show()
    found = "\n".join(view_problems(box, box, 57))
    box.close()
    assert "text needs" in found and "overlaps" in found and "sticks out of" in found
    assert unmarked_rest(mark("Laden") + " 3 – " + mark("kWh")) == ""
    assert unmarked_rest(mark("Laden") + " charging") == "charging"
    assert unmarked_rest("Marktplatz Süd – " + mark("x"), ["Marktplatz Süd"]) == ""
