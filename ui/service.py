"""The installer's service menu: a PIN pad, then devices, open holds, journal, terminal
functions, logs and the software version with its checksum. It never shows card data: the
snapshot carries none, and journal lines come from the core already masked."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import UTC, tzinfo
from pathlib import Path

from kiosk.snapshot import SessionView, StationSnapshot
from ui.i18n import Language
from ui.logbuffer import RING
from ui.ports import ServicePort
from ui.qt import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QObject,
    QPlainTextEdit,
    QResizeEvent,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from ui.screens.base import reason_text, tile_label
from ui.settings import verify_pin
from ui.widgets import button, label

CORE_DIR = Path(__file__).resolve().parent.parent / "kiosk"


def software_version() -> str:
    from importlib import metadata  # noqa: PLC0415 (service menu only: not at start)

    try:
        return metadata.version("evkiosk")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def core_checksum(root: Path = CORE_DIR) -> str:
    """SHA-256 over the core's source files (path and content), the legally relevant part."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _session_line(view: SessionView, lang: Language) -> str:
    return lang.text(
        "service.session_line",
        session=view.session_id,
        connector=view.connector_id,
        phase=lang.text(f"phase.{view.phase.value}"),
        method=lang.text(f"pay.{view.method.value}") if view.method else "–",
        hold=lang.money(view.hold) if view.hold else "–",
    )


def device_lines(snap: StationSnapshot, lang: Language, zone: tzinfo = UTC) -> list[str]:
    lines = [
        lang.text(
            "service.terminal_ready" if snap.terminal_ready else "service.terminal_not_ready"
        ),
        lang.text("service.qr_ready" if snap.qr_available else "service.qr_not_ready"),
    ]
    sessions = {v.connector_id: v for v in (snap.focus, *snap.background) if v is not None}
    for tile in snap.connectors:
        status = lang.text(f"status.{tile.status.value}")
        line = lang.text(
            "service.device_line", label=tile_label(tile, lang), id=tile.connector_id, status=status
        )
        reason = reason_text(tile, lang)
        if reason or tile.status_reason:
            # The worded reason for people, the device's own detail for the installer.
            detail = f" ({tile.status_reason})" if reason and tile.status_reason else ""
            line += f" – {reason or tile.status_reason}{detail}"
        view = sessions.get(tile.connector_id)
        if view is not None and view.live is not None:
            live = view.live
            line += "  " + lang.text(
                "service.device_live",
                energy=lang.energy_kwh(live.energy_wh),
                power=lang.power_kw(live.power_w),
                at=lang.date_time(live.measured_at, zone),
            )
        lines.append(line)
    return (
        lines
        + signing_lines(snap, lang)
        + reporting_lines(snap, lang, zone)
        + csms_lines(snap, lang)
    )


def signing_lines(snap: StationSnapshot, lang: Language) -> list[str]:
    """Each signing meter (Eichrecht): model, serial, firmware, whether it signs, public key
    (the key to register with the Bundesnetzagentur)."""
    lines = []
    for m in snap.signing_meters:
        if not m.model:
            lines.append(
                lang.text("service.signing_unknown", id=m.connector_id, problem=m.problem or "–")
            )
            continue
        lines.append(
            lang.text(
                "service.signing_line",
                id=m.connector_id,
                model=m.model,
                serial=m.serial,
                firmware=m.firmware or "–",
                status=lang.text("service.signing_yes" if m.signing else "service.signing_no"),
                public_key=m.public_key or "–",
            )
        )
        if m.problem:
            lines.append(f"  {m.problem}")
    return lines


def reporting_lines(snap: StationSnapshot, lang: Language, zone: tzinfo = UTC) -> list[str]:
    """The link to the backend: is it there, what waits to be delivered, the last end of day."""
    r = snap.reporting
    if r is None:
        return []
    online = {True: "service.backend_online", False: "service.backend_offline"}
    lines = [
        lang.text(online.get(r.backend_online, "service.backend_unknown")),
        lang.text("service.outbox", queued=r.outbox_queued, parked=r.outbox_parked),
    ]
    if r.outbox_oldest_at is not None:
        lines.append(
            lang.text("service.outbox_oldest", at=lang.date_time(r.outbox_oldest_at, zone))
        )
    if r.outbox_last_error:
        lines.append(lang.text("service.outbox_error", error=r.outbox_last_error))
    if r.end_of_day_mismatch:
        lines.append(r.end_of_day_mismatch)
    return lines


def csms_lines(snap: StationSnapshot, lang: Language) -> list[str]:
    """The link to the operator's CSMS, in one line: joined or not, version, queue, error."""
    c = snap.csms
    if c is None:
        return []
    state = (
        lang.text("service.csms_connected", version=c.version or "–")
        if c.connected
        else lang.text("service.csms_offline")
    )
    line = lang.text("service.csms", state=state, queued=c.queued)
    if c.last_error:
        line += " – " + lang.text("service.csms_error", error=c.last_error)
    return [line]


def open_holds(snap: StationSnapshot) -> list[SessionView]:
    return [v for v in (snap.focus, *snap.background) if v is not None and v.phase.holds_money]


class _Results(QObject):
    """Carries a blocking call's answer from its worker thread back to the GUI thread."""

    done = Signal(str, str)


class ServiceMenu(QFrame):
    closed = Signal()

    def __init__(self, pin_hash: str | None, port: ServicePort | None) -> None:
        super().__init__()
        self.setProperty("role", "overlay")
        self._pin_hash = pin_hash
        self._port = port
        self._entered = ""
        self._lang: Language | None = None
        self._snap: StationSnapshot | None = None
        self.zone: tzinfo = UTC  # the station's: times in the menu are local
        self._results = _Results()
        self._results.done.connect(self._show_result)
        self.pages = QStackedWidget()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(self.pages)
        self._build_pin_page()
        self._build_menu_page()

    # ---------------------------------------------------------------- PIN

    def _build_pin_page(self) -> None:
        page = QWidget()
        box = QVBoxLayout(page)
        self.pin_title = label(role="title")
        self.pin_display = label(role="figure", wrap=False)
        self.pin_display.setObjectName("pin_display")
        self.pin_error = label(role="notice")
        self.pin_error.setObjectName("pin_error")
        pad = QGridLayout()
        self.keys: dict[str, QWidget] = {}
        for i, digit in enumerate("123456789"):
            key = button(digit, name=f"pin_{digit}")
            key.clicked.connect(lambda _=False, d=digit: self.press(d))
            pad.addWidget(key, i // 3, i % 3)
            self.keys[digit] = key
        self.pin_clear = button("", name="pin_clear")
        zero = button("0", name="pin_0")
        zero.clicked.connect(lambda: self.press("0"))
        self.pin_ok = button("", role="primary", name="pin_ok")
        pad.addWidget(self.pin_clear, 3, 0)
        pad.addWidget(zero, 3, 1)
        pad.addWidget(self.pin_ok, 3, 2)
        self.pin_close = button("", name="service_close")
        self.pin_clear.clicked.connect(self._clear)
        self.pin_ok.clicked.connect(self.submit_pin)
        self.pin_close.clicked.connect(self.close_menu)
        # Title, dots and Close share one row: the pad needs the height on a 480 px panel.
        top = QHBoxLayout()
        top.addWidget(self.pin_title)
        top.addWidget(self.pin_display, 1)
        top.addWidget(self.pin_error)
        top.addWidget(self.pin_close)
        box.addLayout(top)
        box.addLayout(pad, 1)
        self.pages.addWidget(page)

    def press(self, digit: str) -> None:
        if len(self._entered) < 12:
            self._entered += digit
        self.pin_error.setText("")
        self.pin_display.setText("•" * len(self._entered))

    def _clear(self) -> None:
        self._entered = ""
        self.pin_display.setText("")

    def submit_pin(self) -> None:
        ok = verify_pin(self._entered, self._pin_hash)
        self._clear()
        if ok:
            self.pages.setCurrentIndex(1)
            self.refresh()
        elif self._lang is not None:
            self.pin_error.setText(self._lang.text("service.pin_wrong"))

    @property
    def unlocked(self) -> bool:
        return self.pages.currentIndex() == 1

    # ---------------------------------------------------------------- menu

    def _text_tab(self, name: str) -> QPlainTextEdit:
        view = QPlainTextEdit()
        view.setReadOnly(True)
        view.setObjectName(name)
        return view

    def _build_menu_page(self) -> None:
        page = QWidget()
        box = QVBoxLayout(page)
        top = QHBoxLayout()
        self.menu_title = label(role="title")
        self.menu_close = button("", name="service_close_menu")
        self.menu_close.clicked.connect(self.close_menu)
        # Simulated hardware: the installer's control panel, one tap from the menu.
        self.simulator_button = button("", name="service_simulator")
        self.simulator_button.hide()
        self._open_simulator: Callable[[], None] | None = None
        self.simulator_button.clicked.connect(self._simulator)
        top.addWidget(self.menu_title, 1)
        top.addWidget(self.simulator_button)
        top.addWidget(self.menu_close)
        self.tabs = QTabWidget()
        self.devices = self._text_tab("service_devices")
        self.holds = self._text_tab("service_holds")
        self.journal = self._text_tab("service_journal")
        terminal = QWidget()
        term_box = QVBoxLayout(terminal)
        row = self.terminal_row = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.status_enquiry = button("", name="status_enquiry")
        self.end_of_day = button("", name="end_of_day")
        self.terminal_holds = button("", name="terminal_holds")
        row.addWidget(self.status_enquiry)
        row.addWidget(self.terminal_holds)
        row.addWidget(self.end_of_day)
        self.terminal_out = self._text_tab("service_terminal")
        # Card-present refund: session id and amount, then the customer presents the card.
        refund_row = QHBoxLayout()
        self.refund_session = QLineEdit()
        self.refund_session.setObjectName("refund_session")
        self.refund_amount = QLineEdit()
        self.refund_amount.setObjectName("refund_amount")
        self.refund_button = button("", name="card_refund")
        refund_row.addWidget(self.refund_session, 1)
        refund_row.addWidget(self.refund_amount, 1)
        refund_row.addWidget(self.refund_button)
        self.refund_button.clicked.connect(self._refund)
        term_box.addLayout(row)
        term_box.addLayout(refund_row)
        term_box.addWidget(self.terminal_out, 1)
        self.logs = self._text_tab("service_logs")
        self.version = self._text_tab("service_version")
        for widget in (self.devices, self.holds, self.journal, terminal, self.logs, self.version):
            self.tabs.addTab(widget, "")
        self.status_enquiry.clicked.connect(
            lambda: self._run("terminal", lambda p: p.terminal_status())
        )
        self.end_of_day.clicked.connect(lambda: self._run("terminal", lambda p: p.end_of_day()))
        self.terminal_holds.clicked.connect(
            lambda: self._run("terminal", lambda p: p.open_preauths())
        )
        box.addLayout(top)
        box.addWidget(self.tabs, 1)
        self.pages.addWidget(page)

    def _refund(self) -> None:
        session_id, amount = self.refund_session.text(), self.refund_amount.text()
        self._run("terminal", lambda p: p.card_refund(session_id, amount))

    def resizeEvent(self, event: QResizeEvent) -> None:
        # A narrow (portrait) panel: tabs down the left side, terminal functions in a column.
        narrow = self.width() < 700 or self.width() < self.height()
        self.tabs.setTabPosition(
            QTabWidget.TabPosition.West if narrow else QTabWidget.TabPosition.North
        )
        self.terminal_row.setDirection(
            QBoxLayout.Direction.TopToBottom if narrow else QBoxLayout.Direction.LeftToRight
        )
        super().resizeEvent(event)

    def offer_simulator(self, open_panel: Callable[[], None]) -> None:
        self._open_simulator = open_panel
        self.simulator_button.show()

    def _simulator(self) -> None:
        if self._open_simulator is not None:
            self._open_simulator()

    def _run(self, where: str, call: Callable[[ServicePort], str]) -> None:
        port, lang = self._port, self._lang
        if port is None or lang is None:
            self._show_result(where, lang.text("service.not_available") if lang else "")
            return

        def work() -> None:
            try:
                answer = call(port)
            except Exception as exc:  # shown to the installer, never raised into Qt
                answer = lang.text("service.failed", error=exc)
            self._results.done.emit(where, answer)

        threading.Thread(target=work, name=f"service-{where}", daemon=True).start()

    def _show_result(self, where: str, text: str) -> None:
        target = self.terminal_out if where == "terminal" else self.journal
        target.setPlainText(text)

    # ---------------------------------------------------------------- rendering

    def show_snapshot(self, snap: StationSnapshot, lang: Language) -> None:
        self._snap, self._lang = snap, lang
        self.pin_title.setText(lang.text("service.pin"))
        self.pin_clear.setText(lang.text("service.clear"))
        self.pin_ok.setText(lang.text("service.ok"))
        for b in (self.pin_close, self.menu_close):
            b.setText(lang.text("service.close"))
        self.menu_title.setText(f"{lang.text('service.title')} – {snap.station_name}")
        for i, key in enumerate(("devices", "holds", "journal", "terminal", "logs", "version")):
            self.tabs.setTabText(i, lang.text(f"service.{key}"))
        self.simulator_button.setText(lang.text("service.simulator"))
        self.status_enquiry.setText(lang.text("service.status_enquiry"))
        self.end_of_day.setText(lang.text("service.end_of_day"))
        self.terminal_holds.setText(lang.text("service.terminal_holds"))
        self.refund_button.setText(lang.text("service.card_refund"))
        self.refund_session.setPlaceholderText(lang.text("service.refund_session"))
        self.refund_amount.setPlaceholderText(lang.text("service.refund_amount"))
        if self.unlocked:
            self.devices.setPlainText("\n".join(device_lines(snap, lang, self.zone)))
            holds = [_session_line(v, lang) for v in open_holds(snap)]
            self.holds.setPlainText("\n".join(holds) or lang.text("service.none"))

    def refresh(self) -> None:
        if self._snap is None or self._lang is None:
            return
        self.show_snapshot(self._snap, self._lang)
        self.logs.setPlainText("\n".join(RING.lines()[-200:]))
        self.version.setPlainText(
            self._lang.text(
                "service.version_text", version=software_version(), checksum=core_checksum()
            )
        )
        if self._port is not None:
            self._run("journal", lambda p: "\n".join(p.recent_sessions(50)))
        else:
            self.journal.setPlainText(self._lang.text("service.not_available"))

    def open_menu(self) -> None:
        self._clear()
        self.pin_error.setText("")
        self.pages.setCurrentIndex(0)
        self.show()
        self.raise_()

    def close_menu(self) -> None:
        self._clear()
        self.pages.setCurrentIndex(0)  # locked again next time
        self.hide()
        self.closed.emit()
