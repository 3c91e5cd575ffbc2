"""The kiosk window: a header (station, languages, text size, contrast), one page per phase,
the service menu overlay. It renders snapshots and forwards intents; it decides nothing about
sessions or money."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from kiosk.snapshot import (
    BackToStart,
    Cancel,
    Countdown,
    ExtendTimeout,
    Intent,
    Phase,
    StationSnapshot,
    StopCharging,
)
from ui.i18n import Language, ordered_codes
from ui.ports import ServicePort
from ui.qt import (
    QEvent,
    QFrame,
    QHBoxLayout,
    QLayout,
    QObject,
    QPushButton,
    QRect,
    QScrollArea,
    QScroller,
    QSizePolicy,
    QStackedWidget,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from ui.screens.base import RenderContext, Screen
from ui.screens.idle import IdleScreen
from ui.screens.outcome import FailureScreen, ReceiptScreen, SafeErrorScreen
from ui.screens.paying import CardScreen, QrScreen
from ui.screens.price import PaymentChoiceScreen, PriceScreen
from ui.screens.session import ChargingScreen, PlugScreen, StartingScreen, StoppingScreen
from ui.settings import UiSettings
from ui.text_fit import TextFit
from ui.theme import HIGH_CONTRAST, NORMAL, large_text_px, metrics, style_sheet
from ui.timeout_warning import TimeoutWarning
from ui.widgets import LongPress, button, label

if TYPE_CHECKING:  # built, and so loaded, when first opened (not for the first frame)
    from ui.service import ServiceMenu

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Send = Callable[[Intent], None]

# Which page shows which phase: data, so a new phase is one line here.
PHASE_PAGES: dict[Phase, str] = {
    Phase.IDLE: "idle",
    Phase.CLOSED: "idle",
    Phase.PRICE_SHOWN: "price",
    Phase.CHOOSING_PAYMENT: "payment",
    Phase.PAYING_CARD: "card",
    Phase.PAYING_QR: "qr",
    Phase.WAITING_FOR_PLUG: "plug",
    Phase.STARTING: "starting",
    Phase.CHARGING: "charging",
    Phase.STOPPING: "stopping",
    Phase.SETTLING: "stopping",
    Phase.RECEIPT: "receipt",
    Phase.FAILED: "failure",
}
# Phases whose money must be settled by the runtime if the screen itself breaks.
WARN_S = 30  # the "more time?" warning shows this long before an extendable countdown ends
_STOP_ON_ERROR = frozenset({Phase.STARTING, Phase.CHARGING})


def utc_now() -> datetime:
    return datetime.now(UTC)


class Pages(Mapping[str, Screen]):
    """The window's pages by name, each built when first asked for: a station starts on its
    idle page, and building and styling the other ten (~80 widgets) before the first frame
    took about a third of the window's start."""

    def __init__(
        self, kinds: dict[str, Callable[[], Screen]], added: Callable[[str, Screen], None]
    ) -> None:
        self._kinds = kinds
        self._added = added
        self._built: dict[str, Screen] = {}

    def __getitem__(self, name: str) -> Screen:
        page = self._built.get(name)
        if page is None:
            page = self._kinds[name]()
            self._built[name] = page
            self._added(name, page)
        return page

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def built(self) -> dict[str, Screen]:
        """The pages built so far (iterating the mapping's values would build them all)."""
        return dict(self._built)


class KioskWindow(QWidget):
    def __init__(
        self,
        languages: dict[str, Language],
        send: Send,
        *,
        settings: UiSettings | None = None,
        clock: Clock = utc_now,
        zone: tzinfo = UTC,
        service: ServicePort | None = None,
        dpi: float = 96.0,
        tick_ms: int = 250,
    ) -> None:
        super().__init__()
        self.setObjectName("kiosk")
        self.languages = languages
        self.settings = settings or UiSettings()
        self._send = send
        self.clock = clock
        self.zone = zone
        self.dpi = self.settings.dpi or dpi
        self.snapshot: StationSnapshot | None = None
        self.lang_code = next(iter(languages))
        self.default_lang: str | None = None
        self.large_text = False
        self.high_contrast = False
        self.failed = False  # the safe error screen is up
        self._last_phase = Phase.IDLE
        self._style_key: tuple[int, int, bool, bool] | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 6, 10, 8)
        outer.setSpacing(4)
        self.header = QWidget()
        # The station name beside the buttons; above them on a narrow (portrait) panel.
        self.header_box = QVBoxLayout(self.header)
        self.header_box.setContentsMargins(0, 0, 0, 0)
        self.header_box.setSpacing(2)
        head = self.header_row = QHBoxLayout()
        self.header_box.addLayout(head)
        # A long station name wraps to a second line rather than being cut.
        self.station = label(role="station")
        self.station.setObjectName("station_name")
        self.long_press = LongPress(self.station)
        self.long_press.held.connect(self.open_service)
        self.lang_row = QHBoxLayout()
        self.lang_buttons: dict[str, QPushButton] = {}
        self.large_button = button("", role="chip", name="large_text")
        self.contrast_button = button("", role="chip", name="high_contrast")
        for b in (self.large_button, self.contrast_button):
            b.setCheckable(True)
        self.large_button.toggled.connect(self.set_large_text)
        self.contrast_button.toggled.connect(self.set_high_contrast)
        # The station name takes what the buttons leave; it never pushes them off screen.
        self.station.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        head.addWidget(self.station, 1)
        head.addLayout(self.lang_row)
        # Text size and contrast sit in the header of every screen: one tap away.
        head.addWidget(self.large_button)
        head.addWidget(self.contrast_button)
        outer.addWidget(self.header)

        self.stack = QStackedWidget()
        # Pages never scroll: large text is fitted to the panel (see _fit_text). The scroll
        # area is a last resort for content no design foresaw.
        self.page_area = QScrollArea()
        # A viewport made here, kept by its Python name: asking Qt for the default one makes
        # the binding resolve every widget type of QtWidgets (~80 enums, ~20 ms at start).
        self.viewport = QWidget()
        self.page_area.setViewport(self.viewport)
        self.page_area.setWidget(self.stack)
        self.page_area.setWidgetResizable(False)  # sized by _fit_stack: to the page on show
        self.page_area.setFrameShape(QFrame.Shape.NoFrame)
        self.page_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        QScroller.grabGesture(self.viewport, QScroller.ScrollerGestureType.LeftMouseButtonGesture)
        outer.addWidget(self.page_area, 1)
        # The window's size is the panel's; its layout must not push size hints to the platform.
        outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.pages = Pages(
            {
                "idle": IdleScreen,
                "price": PriceScreen,
                "payment": PaymentChoiceScreen,
                "card": CardScreen,
                "qr": QrScreen,
                "plug": PlugScreen,
                "starting": StartingScreen,
                "charging": ChargingScreen,
                "stopping": StoppingScreen,
                "receipt": ReceiptScreen,
                "failure": FailureScreen,
                "error": SafeErrorScreen,
            },
            self._add_page,
        )
        # The idle page is the first shown; the safe error page must never wait to be built.
        self.pages["idle"]
        self.pages["error"]

        self.timeout_warning = TimeoutWarning(self)
        self.timeout_warning.more.clicked.connect(self._extend)
        self._extended: set[tuple[str, datetime]] = set()

        self.viewport.installEventFilter(self)
        self._text_fit = TextFit(self.viewport, self.stack)

        self._service_port = service
        self._service: ServiceMenu | None = None  # built when first needed (see `service`)

        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self._build_language_buttons(())
        self._apply_style()
        # Until the runtime's first snapshot (recovery may take a moment): say so.
        idle = self.pages["idle"]
        assert isinstance(idle, IdleScreen)
        idle.title.setText(self.lang.text("starting.title"))

    # ---------------------------------------------------------------- state from outside

    @property
    def lang(self) -> Language:
        return self.languages[self.lang_code]

    @property
    def service(self) -> ServiceMenu:
        """The installer's menu, built when first needed: a driver's screens come first, and
        building it (six tabs) and styling it would delay the first frame."""
        if self._service is None:
            from ui.service import ServiceMenu  # noqa: PLC0415

            menu = ServiceMenu(self.settings.service_pin_hash, self._service_port)
            menu.zone = self.zone
            menu.setParent(self)
            menu.hide()
            self._service = menu
            self._style_service()
        return self._service

    def _service_shown(self) -> bool:
        return self._service is not None and self._service.isVisible()

    @property
    def current_page(self) -> str:
        widget = self.stack.currentWidget()
        return next(name for name, page in self.pages.built().items() if page is widget)

    def _add_page(self, name: str, page: Screen) -> None:
        page.setObjectName(f"page_{name}")
        page.intent.connect(self._on_intent)
        ignored = QSizePolicy.Policy.Ignored  # claims room only when shown (see _show_page)
        page.setSizePolicy(ignored, ignored)
        self.stack.addWidget(page)

    def show_snapshot(self, snapshot: StationSnapshot) -> None:
        """A new snapshot from the runtime (always on the GUI thread)."""
        if self.snapshot is not None and snapshot.seq < self.snapshot.seq:
            return  # an older snapshot overtaken by a newer one
        first = self.snapshot is None
        self.snapshot = snapshot
        if first or self.default_lang is None:
            codes = ordered_codes(self.languages, snapshot.locales)
            self.default_lang = codes[0]
            self.lang_code = codes[0]
            self._build_language_buttons(snapshot.locales)
        if snapshot.phase in (Phase.IDLE, Phase.CLOSED) and self._last_phase not in (
            Phase.IDLE,
            Phase.CLOSED,
        ):
            self.reset_driver_choices()
            self.failed = False
        self._last_phase = snapshot.phase
        self._refresh()

    def tick(self) -> None:
        if self.snapshot is not None:
            self._refresh(tick_only=True)
        if not self._clock_needed():
            self.timer.stop()  # started again by the next page that moves with the clock

    def _clock_needed(self) -> bool:
        """Whether anything on show moves with the clock. The idle page does not (a price
        change comes as a snapshot), so an idle station does not wake up 4 times a second."""
        idle = self.pages["idle"]
        return (
            self.snapshot is None
            or self.stack.currentWidget() is not idle
            or (self._service_shown())
        )

    def _keep_clock(self) -> None:
        if self._clock_needed() and not self.timer.isActive():
            self.timer.start()

    def reset_driver_choices(self) -> None:
        """Back at the start: the next driver gets the default language and text size."""
        if self.default_lang:
            self.lang_code = self.default_lang
        self.large_button.setChecked(False)
        self.contrast_button.setChecked(False)

    def set_language(self, code: str) -> None:
        self.lang_code = code
        for c, b in self.lang_buttons.items():
            b.setChecked(c == code)
        self._refresh()

    def set_large_text(self, on: bool) -> None:
        self.large_text = on
        self._apply_style()
        self._refresh()

    def set_high_contrast(self, on: bool) -> None:
        self.high_contrast = on
        self._apply_style()
        self._refresh()

    # ---------------------------------------------------------------- errors

    def show_error(self, exc: BaseException | None = None) -> None:
        """The app failed: log, ask the runtime to settle the open session, show a safe page."""
        log.error("screen failure, showing the safe error page", exc_info=exc)
        view = self.snapshot.focus if self.snapshot else None
        if view is not None and not self.failed:
            if view.phase in _STOP_ON_ERROR:
                self._send(StopCharging(view.session_id))
            elif view.phase in (Phase.RECEIPT, Phase.FAILED):
                self._send(BackToStart(view.session_id))
            elif not view.phase.is_final and view.phase not in (Phase.STOPPING, Phase.SETTLING):
                self._send(Cancel(view.session_id))
        self.failed = True
        page = self.pages["error"]
        self._show_page(page)
        self._keep_clock()
        try:
            ctx = self._context()
            page.draw(ctx)
            self._fit_text("error", page, lambda: page.draw(ctx))
            self._fit_stack()
        except Exception:  # the last resort must not recurse
            log.exception("the safe error page failed to render")

    # ---------------------------------------------------------------- internals

    def _on_intent(self, intent: Intent) -> None:
        if isinstance(intent, BackToStart) and self.failed:
            self.failed = False
            self._refresh()
        log.info("intent %s", intent)
        self._send(intent)

    def open_service(self) -> None:
        self.service.setGeometry(self.rect())
        self.service.open_menu()
        self._keep_clock()
        if self.snapshot is not None:
            self.service.show_snapshot(self.snapshot, self.lang)

    def _show_page(self, page: Screen) -> None:
        # Only the page on show may claim room: the scroll area sizes the stack to it.
        for other in self.pages.built().values():
            ignored = QSizePolicy.Policy.Ignored
            other.setSizePolicy(
                QSizePolicy.Policy.Preferred if other is page else ignored,
                QSizePolicy.Policy.Preferred if other is page else ignored,
            )
        self.stack.setCurrentWidget(page)
        self._fit_stack()

    def _fit_stack(self) -> None:
        """The page gets the viewport's size, or more height if its content needs it (large
        text, or a dense panel whose 15 mm buttons leave little room); then it scrolls."""
        viewport = self.viewport.size()
        page = self.stack.currentWidget()
        if page is None:
            return
        needed = page.minimumSizeHint().height()
        layout = page.layout()
        if layout is not None and layout.hasHeightForWidth():
            needed = max(needed, layout.totalHeightForWidth(viewport.width()))
        height = max(viewport.height(), needed)
        self.stack.resize(viewport.width(), height)

    def _place_station_name(self, above: bool) -> None:
        if above == (self.header_box.indexOf(self.station) == 0):
            return
        if above:
            self.header_row.removeWidget(self.station)
            self.header_box.insertWidget(0, self.station)
        else:
            self.header_box.removeWidget(self.station)
            self.header_row.insertWidget(0, self.station, 1)

    def _fit_text(self, name: str, page: QWidget, redraw: Callable[[], None]) -> None:
        """Text as large as this page allows on this panel, from the mode's size down to 4/5 of
        the normal one, until the page fits: no control leaves the screen or scrolls."""
        normal = metrics(self.width(), self.height(), self.dpi, large_text=False).base
        # A dense panel (15 mm buttons take much of it) or a narrow one: a little smaller.
        floor = max(13, normal * 4 // 5)
        top = large_text_px(self.width(), self.height(), self.dpi) if self.large_text else normal
        key = (name, self.lang_code, self.width(), self.height(), self.large_text)
        self._text_fit.fit(page, key, (floor, top), self._page_sheet, redraw)

    def _page_sheet(self, px: int) -> str:
        """The style sheet of a page fitted to body text of `px`."""
        m = metrics(self.width(), self.height(), self.dpi, self.large_text, base=px)
        normal = metrics(self.width(), self.height(), self.dpi, large_text=False)
        palette = HIGH_CONTRAST if self.high_contrast else NORMAL
        return style_sheet(palette, m, chip_px=normal.small, station_px=round(normal.base * 1.2))

    def _context(self) -> RenderContext:
        assert self.snapshot is not None
        return RenderContext(self.snapshot, self.lang, self.zone, self.clock())

    def _page_for(self, snap: StationSnapshot) -> str:
        if self.failed:
            return "error"
        view = snap.focus
        if view is None:
            return "idle"
        page = PHASE_PAGES.get(view.phase, "error")
        if page == "receipt" and view.receipt is None:
            return "stopping"
        if page == "failure" and view.failure is None:
            return "error"
        return page

    def _refresh(self, tick_only: bool = False) -> None:
        if self.snapshot is None:
            return
        try:
            ctx = self._context()
            name = self._page_for(self.snapshot)
            page = self.pages[name]
            if tick_only and self.stack.currentWidget() is page:
                # between snapshots only the clock moved: the header, the layout and most
                # pages (idle: nothing at all) stay as the last full refresh left them
                page.tick(ctx)
                self._update_timeout_warning(ctx)
                if self._service_shown():
                    self.service.show_snapshot(self.snapshot, self.lang)
                return
            if self.stack.currentWidget() is not page:
                self._show_page(page)
            self.station.setText(self.snapshot.station_name)
            wide = self.width() >= 1100
            for b, key in ((self.large_button, "large_text"), (self.contrast_button, "contrast")):
                full = self.lang.text(f"a11y.{key}")
                b.setText(full if wide else self.lang.text(f"a11y.{key}_short"))
                b.setAccessibleName(full)
            for code, b in self.lang_buttons.items():
                b.setChecked(code == self.lang_code)
            portrait = self.height() > self.width()
            self._place_station_name(above=portrait)
            page.set_stacked(portrait)
            if tick_only:
                page.tick(ctx)
            else:
                page.draw(ctx)
                self._fit_text(name, page, lambda: page.draw(ctx))
                self._fit_stack()
            self._update_timeout_warning(ctx)
            if self._service_shown():
                self.service.show_snapshot(self.snapshot, self.lang)
            self._keep_clock()
        except Exception as exc:
            self.show_error(exc)

    def _warning_countdown(self, ctx: RenderContext) -> Countdown | None:
        view = ctx.focus
        if view is None or self.failed:
            return None
        for countdown in view.countdowns:
            remaining = ctx.remaining_s(countdown)
            key = (view.session_id, countdown.ends_at)
            if countdown.extendable and 0 < remaining <= WARN_S and key not in self._extended:
                return countdown
        return None

    def _update_timeout_warning(self, ctx: RenderContext) -> None:
        countdown = self._warning_countdown(ctx)
        if countdown is None:
            self.timeout_warning.hide()
            return
        self.timeout_warning.show_for(countdown, ctx)
        self.timeout_warning.setGeometry(self._overlay_rect())
        self.timeout_warning.raise_()

    def _extend(self) -> None:
        if self.snapshot is None or self.snapshot.focus is None:
            return
        ctx = self._context()
        countdown = self._warning_countdown(ctx)
        self.timeout_warning.hide()
        if countdown is not None:
            self._extended.add((self.snapshot.focus.session_id, countdown.ends_at))
            self._send(ExtendTimeout(self.snapshot.focus.session_id))

    def _overlay_rect(self) -> QRect:
        r = self.rect()
        width = r.width() * 3 // 4
        layout = self.timeout_warning.layout()
        needed = layout.totalHeightForWidth(width) if layout is not None else 0
        height = min(r.height() - 16, max(r.height() * 3 // 5, needed))
        return QRect((r.width() - width) // 2, (r.height() - height) // 2, width, height)

    def _build_language_buttons(self, preferred: tuple[str, ...]) -> None:
        for b in self.lang_buttons.values():
            self.lang_row.removeWidget(b)
            b.hide()
            b.deleteLater()
        self.lang_buttons = {}
        for code in ordered_codes(self.languages, preferred):
            b = button(self.languages[code].name, role="chip", name=f"lang_{code}")
            b.setCheckable(True)
            b.setChecked(code == self.lang_code)
            b.clicked.connect(lambda _=False, c=code: self.set_language(c))
            self.lang_row.addWidget(b)
            self.lang_buttons[code] = b

    def _apply_style(self) -> None:
        """Set the style sheets for the current size and mode. Setting one re-polishes every
        widget below (~40 ms on a small board), so an unchanged sheet is not set again; widgets
        added later (language buttons) are polished with the sheet already set. A page fitted
        to smaller text has a sheet of its own (see TextFit)."""
        key = (self.width(), self.height(), self.large_text, self.high_contrast)
        if key == self._style_key:
            return
        self._style_key = key
        top = metrics(self.width(), self.height(), self.dpi, self.large_text).base
        sheet = self._page_sheet(top)
        if sheet != self.styleSheet():
            self.setStyleSheet(sheet)
        self._style_service()

    def _style_service(self) -> None:
        # The service menu is the installer's: the driver's text size does not apply.
        if self._service is None:
            return
        normal = metrics(self.width(), self.height(), self.dpi, large_text=False)
        sheet = style_sheet(HIGH_CONTRAST if self.high_contrast else NORMAL, normal)
        if sheet != self._service.styleSheet():
            self._service.setStyleSheet(sheet)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.viewport and event.type() == QEvent.Type.Resize:
            self._fit_stack()
        return False

    def resizeEvent(self, event: object) -> None:
        self._apply_style()
        if self._service_shown():
            self.service.setGeometry(self.rect())
        if self.timeout_warning.isVisible():
            self.timeout_warning.setGeometry(self._overlay_rect())
        self._refresh()
