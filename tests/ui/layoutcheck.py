"""What a driver would see wrong on a rendered screen, found from the widget tree.

`view_problems` looks at one view (a page, an overlay, the service menu) and reports every
button or text outside the window or an ancestor that clips it, texts cut or elided, widgets
overlapping each other, touch targets under the configured size. `untranslated` reports visible
texts that did not come through the translation layer, for a window rendered with
`pseudo_languages` (every text and every locale-formatted value wrapped in markers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from decimal import Decimal

from kiosk.snapshot import Amount
from ui.i18n import Language
from ui.qt import QLabel, QPlainTextEdit, QPushButton, QRect, QTabWidget, QWidget
from ui.widgets import QrCode, StatusIcon

OPEN, CLOSE = "⟦", "⟧"
_MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
QR_MIN_PX = 148  # 37 modules of 4 px: a phone reads it at arm's length
QR_COMPACT_MIN_MM = 20  # read by a phone held 20 cm away


def mark(text: str) -> str:
    return f"{OPEN}{text}{CLOSE}"


@dataclass(frozen=True)
class PseudoLanguage(Language):
    """A language whose every text and formatted value is wrapped in markers."""

    def text(self, key: str, **values: object) -> str:
        if key == "price.days":  # a list the wording splits into day names: mark each name
            return " ".join(mark(day) for day in super().text(key).split())
        return mark(super().text(key, **values))

    def number(self, value: Decimal, places: int) -> str:
        return mark(super().number(value, places))

    def money(self, amount: Amount) -> str:
        return mark(super().money(amount))

    def money_value(self, value: Decimal, currency: str, places: int | None = None) -> str:
        return mark(super().money_value(value, currency, places))

    def energy_kwh(self, wh: int) -> str:
        return mark(super().energy_kwh(wh))

    def power_kw(self, watts: float | None) -> str:
        return mark(super().power_kw(watts))

    def duration(self, seconds: int) -> str:  # type: ignore[override]
        return mark(Language.duration(seconds))

    def date_time(self, moment: datetime, zone: tzinfo) -> str:
        return mark(super().date_time(moment, zone))

    def clock_time(self, moment: datetime, zone: tzinfo) -> str:
        return mark(super().clock_time(moment, zone))

    def pick(self, texts: Iterable[tuple[str, str]], default: str) -> str:
        return mark(super().pick(texts, default))


def pseudo_languages(languages: dict[str, Language]) -> dict[str, Language]:
    out: dict[str, Language] = {}
    for code, lang in languages.items():
        values = {f.name: getattr(lang, f.name) for f in fields(lang)}
        values["name"] = mark(lang.name)
        out[code] = PseudoLanguage(**values)
    return out


def unmarked_rest(text: str, data: Iterable[str] = ()) -> str:
    """What is left of `text` after removing every marked part and the station's own data
    (names and ids as configured): letters left over were never translated."""
    while True:
        stripped = _MARKED.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    for item in sorted(data, key=len, reverse=True):
        if item:
            text = text.replace(item, " ")
    return "".join(ch for ch in text if ch.isalpha())


# ---------------------------------------------------------------- geometry


def _rect_in(widget: QWidget, ancestor: QWidget) -> QRect:
    return QRect(widget.mapTo(ancestor, widget.rect().topLeft()), widget.size())


def _name(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QLabel | QPushButton) else ""
    return widget.objectName() or repr(text[:30]) or type(widget).__name__


def leaves(root: QWidget, window: QWidget) -> list[QWidget]:
    """The visible things a driver reads or taps under `root`: texts, buttons, codes, icons."""
    kinds = (QLabel, QPushButton, QrCode, StatusIcon, QPlainTextEdit, QTabWidget)
    found = []
    for w in root.findChildren(QWidget):
        if not isinstance(w, kinds) or not w.isVisibleTo(window):
            continue
        if isinstance(w, QLabel) and not w.text() and w.pixmap().isNull():
            continue
        found.append(w)
    return found


def _clipped_by(widget: QWidget, window: QWidget) -> str | None:
    """The first ancestor (up to the window) that does not hold the whole widget."""
    holder = widget.parentWidget()
    while holder is not None:
        if not holder.rect().contains(_rect_in(widget, holder)):
            return holder.objectName() or type(holder).__name__
        if holder is window:
            return None
        holder = holder.parentWidget()
    return None


def _text_problem(w: QWidget) -> str | None:
    if isinstance(w, QPushButton):
        if not w.text():
            return None  # a composite button (tile, big choice): its labels are checked
        hint = w.sizeHint()
        if hint.width() > w.width() + 1 or hint.height() > w.height() + 1:
            return f"text needs {hint.width()}x{hint.height()} px, has {w.width()}x{w.height()}"
        return None
    if isinstance(w, QLabel):
        room = w.contentsRect()
        metrics = w.fontMetrics()
        if w.wordWrap():
            needed = w.heightForWidth(w.width())
            if needed > w.height() + 1:
                return f"text needs {needed} px high, has {w.height()}"
            widest = max((metrics.horizontalAdvance(word) for word in w.text().split()), default=0)
            if widest > room.width() + 1:
                return f"a word is {widest} px wide, has {room.width()}"
            return None
        hint = w.sizeHint()
        if hint.width() > w.width() + 1 or hint.height() > w.height() + 1:
            return f"text needs {hint.width()}x{hint.height()} px, has {w.width()}x{w.height()}"
        return None
    if isinstance(w, QTabWidget):
        bar = w.tabBar()
        if bar.sizeHint().width() > bar.width() + 1 or bar.width() > w.width():
            return f"tabs need {bar.sizeHint().width()} px, have {w.width()}"
        for i in range(bar.count()):
            if bar.tabSizeHint(i).width() > bar.tabRect(i).width() + 1:
                return f"tab {bar.tabText(i)!r} is elided"
    return None


def _qr_problem(code: QrCode, window: QWidget) -> str | None:
    """A payment code is read at arm's length: 148 px. A compact one (on a crowded tile) may
    have 3 px per module, if it is still 20 mm wide on the panel."""
    side = code.painted_side()
    if not code.compact:
        return f"is painted {side} px, under {QR_MIN_PX}" if side < QR_MIN_PX else None
    modules = code.modules
    mm = side * 25.4 / getattr(window, "dpi", 96)
    if side < 3 * modules or mm < QR_COMPACT_MIN_MM:
        return f"is painted {side} px ({mm:.1f} mm) for {modules} modules"
    return None


def view_problems(root: QWidget, window: QWidget, target: int) -> list[str]:
    found: list[str] = []
    items = leaves(root, window)
    for w in items:
        name = _name(w)
        clip = _clipped_by(w, window)
        if clip is not None:
            found.append(f"{name} sticks out of {clip}")
        problem = _text_problem(w)
        if problem:
            found.append(f"{name}: {problem}")
        if isinstance(w, QPushButton) and min(w.width(), w.height()) < target:
            found.append(f"{name} is {w.width()}x{w.height()} px, under {target} px")
        if isinstance(w, QTabWidget):
            bar = w.tabBar()
            for i in range(bar.count()):
                r = bar.tabRect(i)
                if min(r.width(), r.height()) < target:
                    found.append(f"tab {bar.tabText(i)!r} is {r.width()}x{r.height()} px")
        if isinstance(w, QrCode) and w.data and (problem := _qr_problem(w, window)):
            found.append(f"{name} {problem}")
    # Overlap: two things a driver reads or taps share pixels (one inside the other is fine).
    rects = [(w, _rect_in(w, window)) for w in items]
    for i, (a, ra) in enumerate(rects):
        for b, rb in rects[i + 1 :]:
            if a.isAncestorOf(b) or b.isAncestorOf(a):
                continue
            if ra.intersects(rb):
                found.append(f"{_name(a)} overlaps {_name(b)}")
    return found


def visible_texts(root: QWidget, window: QWidget) -> list[tuple[QWidget, str]]:
    out: list[tuple[QWidget, str]] = []
    for w in leaves(root, window):
        if isinstance(w, QLabel | QPushButton) and w.text():
            out.append((w, w.text()))
        elif isinstance(w, QTabWidget):
            out += [(w, w.tabText(i)) for i in range(w.count())]
        elif isinstance(w, QPlainTextEdit):
            out.append((w, w.toPlainText()))
    return out
