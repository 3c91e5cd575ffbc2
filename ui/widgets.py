"""Small building blocks the screens share: styled labels and buttons, a QR code, status icons,
a countdown with "More time", and a long-press area for the service menu."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.snapshot import ConnectorStatus
from ui.qt import (
    QEvent,
    QFrame,
    QLabel,
    QObject,
    QPainter,
    QPixmap,
    QPushButton,
    QRectF,
    QSizePolicy,
    QSvgRenderer,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)

if TYPE_CHECKING:
    from ui.qt import QPaintEvent

ICON_DIR = Path(__file__).resolve().parent.parent / "assets" / "icons"

# Status is text + icon + colour role; the icon file and role are data, not branches.
STATUS_LOOK: dict[ConnectorStatus, tuple[str, str]] = {
    ConnectorStatus.AVAILABLE: ("available.svg", "status-ok"),
    ConnectorStatus.PREPARING: ("busy.svg", "status-warn"),
    ConnectorStatus.CHARGING: ("charging.svg", "status-warn"),
    ConnectorStatus.SUSPENDED_EV: ("paused.svg", "status-warn"),
    ConnectorStatus.FINISHING: ("busy.svg", "status-warn"),
    ConnectorStatus.OCCUPIED: ("occupied.svg", "status-warn"),
    ConnectorStatus.UNAVAILABLE: ("unavailable.svg", "status-bad"),
    ConnectorStatus.FAULTED: ("fault.svg", "status-bad"),
}


def label(text: str = "", role: str | None = None, wrap: bool = True) -> QLabel:
    widget = QLabel(text)
    if role:
        widget.setProperty("role", role)
    widget.setWordWrap(wrap)
    return widget


def button(text: str, role: str | None = None, name: str | None = None) -> QPushButton:
    widget = QPushButton(text)
    if role:
        widget.setProperty("role", role)
    if name:
        widget.setObjectName(name)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no focus frames on a touch panel
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return widget


class BigButton(QPushButton):
    """A large choice: a bold title and a wrapped explanation, all of it one touch target."""

    def __init__(self, name: str, role: str = "primary") -> None:
        super().__init__()
        self.setObjectName(name)
        self.setProperty("role", role)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        box = QVBoxLayout(self)
        self.title = label(role="title")
        self.subtitle = label()
        for part in (self.title, self.subtitle):
            part.setAlignment(Qt.AlignmentFlag.AlignCenter)
            # Taps on the texts belong to the button.
            part.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        box.addStretch(1)
        box.addWidget(self.title)
        box.addWidget(self.subtitle)
        box.addStretch(1)

    def set_texts(self, title: str, subtitle: str) -> None:
        self.title.setText(title)
        self.subtitle.setText(subtitle)
        self.setAccessibleName(f"{title}. {subtitle}")


def card() -> QFrame:
    frame = QFrame()
    frame.setProperty("role", "card")
    return frame


def restyle(widget: QWidget, role: str) -> None:
    """Change a widget's style role and make the style sheet see it."""
    if widget.property("role") != role:
        widget.setProperty("role", role)
        # A widget not polished yet reads the role when it is; asking for its style would
        # only build PySide6's QStyle wrapper (its ~20 enums, ~15 ms) before the first frame.
        if widget.testAttribute(Qt.WidgetAttribute.WA_WState_Polished):
            style = widget.style()
            style.unpolish(widget)
            style.polish(widget)


class StatusIcon(QWidget):
    """An SVG icon drawn in the current text colour's size; the shape carries the meaning."""

    def __init__(self) -> None:
        super().__init__()
        self._renderer = QSvgRenderer()
        self._file = ""
        self.setFixedSize(32, 32)

    def set_icon(self, file_name: str, side: int) -> None:
        # The window refreshes its pages several times a second: an unchanged icon must not
        # schedule a repaint (a resize repaints on its own).
        if file_name != self._file:
            self._renderer.load(str(ICON_DIR / file_name))
            self._file = file_name
            self.update()
        if (
            self.minimumWidth(),
            self.maximumWidth(),
            self.minimumHeight(),
            self.maximumHeight(),
        ) != ((side,) * 4):
            self.setFixedSize(side, side)

    @property
    def file_name(self) -> str:
        return self._file

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        self._renderer.render(painter, QRectF(0, 0, self.width(), self.height()))
        painter.end()


class QrCode(QWidget):
    """A QR code painted module by module (black on white with a quiet zone, as scanners want)."""

    MODULE_PX = 4  # 37 modules (a receipt link) make 148 px, about 39 mm at 96 dpi

    def __init__(self, compact: bool = False) -> None:
        super().__init__()
        self._data = ""
        self._matrix: list[list[bool]] = []
        # A compact code, for a crowded screen: level L (7 % recovery) instead of M (15 %), as a
        # screen never gets scratched or dirty as a sticker does, and modules down to 3 px
        # (0.6 mm on a 7" 800x480 panel: still read by a phone held at 20 cm).
        self._compact = compact
        self._module_px = 3 if compact else self.MODULE_PX
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)

    @property
    def data(self) -> str:
        return self._data

    def set_data(self, data: str) -> None:
        if data == self._data:
            return
        self._data = data
        if data:
            import qrcode  # noqa: PLC0415 (only when a QR code is shown: not at start)

            c = qrcode.constants
            level = c.ERROR_CORRECT_L if self._compact else c.ERROR_CORRECT_M
            code = qrcode.QRCode(error_correction=level, border=4)
            code.add_data(data)
            code.make(fit=True)
            self._matrix = code.get_matrix()
        else:
            self._matrix = []
        # Whole pixels per module, at least MODULE_PX (3 if compact): a layout never squeezes
        # the code below what a phone camera reads at arm's length.
        side = len(self._matrix) * self._module_px
        if not self._compact:
            side = max(120, side)
        self.setMinimumSize(side, side)
        self.update()

    @property
    def compact(self) -> bool:
        return self._compact

    @property
    def modules(self) -> int:
        """Modules per side, quiet zone included."""
        return len(self._matrix)

    def cramped(self) -> bool:
        """Painted with fewer than MODULE_PX pixels per module: only a compact code may be, and
        the page's text is made smaller first (see ui/text_fit.py)."""
        return bool(self._matrix) and self.painted_side() < self.modules * self.MODULE_PX

    def painted_side(self) -> int:
        """The code's side on screen: whole pixels per module, so it may be under the widget."""
        n = len(self._matrix)
        return (min(self.width(), self.height()) // n) * n if n else 0

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._matrix:
            return
        painter = QPainter(self)
        n = len(self._matrix)
        size = self.painted_side()
        module = size // n
        x0 = (self.width() - size) // 2
        y0 = (self.height() - size) // 2
        painter.fillRect(x0, y0, size, size, Qt.GlobalColor.white)
        for row, cells in enumerate(self._matrix):
            for col, dark in enumerate(cells):
                if dark:
                    painter.fillRect(
                        x0 + col * module, y0 + row * module, module, module, Qt.GlobalColor.black
                    )
        painter.end()

    def to_pixmap(self, side: int) -> QPixmap:
        pixmap = QPixmap(side, side)
        pixmap.fill(Qt.GlobalColor.white)
        self.render(pixmap)
        return pixmap


class CountdownBar(QLabel):
    """The remaining time of the screen's countdown, as a line of text. The warning with
    "More time" is the window's job (one overlay for every screen)."""

    def __init__(self) -> None:
        super().__init__()
        self.setProperty("role", "muted")
        self.setWordWrap(True)
        self.setObjectName("countdown")


class LongPress(QObject):
    """Emits `held` when a widget is pressed and held for `hold_ms` (the service menu's door)."""

    held = Signal()

    def __init__(self, target: QWidget, hold_ms: int = 3000) -> None:
        super().__init__(target)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(hold_ms)
        self._timer.timeout.connect(self.held.emit)
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
            self._timer.start()
        elif kind in (QEvent.Type.MouseButtonRelease, QEvent.Type.TouchEnd, QEvent.Type.Leave):
            self._timer.stop()
        return False

    def fire_for_test(self) -> None:
        """What a completed hold does, without waiting 3 s of wall time."""
        self._timer.stop()
        self.held.emit()
