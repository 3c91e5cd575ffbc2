"""Text as large as a page allows on the panel: the body text size is stepped down from the
mode's size until the page on show fits its viewport, and the size found is kept.

A page that needs a smaller size than the window's gets a style sheet of its own. Setting a
sheet re-polishes every widget below the one it is set on, so the fit touches only the page's
widgets, not the whole window's (on a small board that is a page change in large-text mode)."""

from __future__ import annotations

from collections.abc import Callable

from ui.qt import QApplication, QEvent, QLabel, QPushButton, QStackedWidget, QWidget
from ui.widgets import QrCode

# (page, language, panel width, panel height, large text)
FitKey = tuple[str, str, int, int, bool]


def settle(page: QWidget) -> None:
    """Size changes that a new font or drawing just made (icons follow the font) reach the
    page's layout through posted layout requests: apply them before the page is measured."""
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    layout = page.layout()
    if layout is not None:
        layout.activate()


def page_overflows(viewport: QWidget, stack: QStackedWidget) -> bool:
    """The page on show needs more than the panel: taller than the viewport, a word wider than
    its label (a word is never broken), or a QR code with less than its full size."""
    size = viewport.size()
    page = stack.currentWidget()
    if page is None:
        return False
    stack.resize(size)
    layout = page.layout()
    if layout is None:
        return False
    settle(page)
    needed = max(page.minimumSizeHint().height(), layout.totalHeightForWidth(size.width()))
    if needed > size.height():
        return True
    for lab in page.findChildren(QLabel):
        if not (lab.isVisibleTo(page) and lab.text()):
            continue
        if lab.wordWrap():
            widest = max(lab.fontMetrics().horizontalAdvance(w) for w in lab.text().split())
            if widest > lab.contentsRect().width():
                return True
        elif lab.sizeHint().width() > lab.width() + 1:
            return True
    # A compact QR code shrinks to 3 px per module only once the text is as small as it gets.
    if any(q.isVisibleTo(page) and q.cramped() for q in page.findChildren(QrCode)):
        return True
    for b in page.findChildren(QPushButton):
        if b.isVisibleTo(page) and b.text():
            hint = b.sizeHint()
            if hint.width() > b.width() + 1 or hint.height() > b.height() + 1:
                return True
    return False


class TextFit:
    """The fitted body text size per page, language, panel size and mode."""

    def __init__(self, viewport: QWidget, stack: QStackedWidget) -> None:
        self._viewport = viewport
        self._stack = stack
        self._fitted: dict[FitKey, int] = {}

    def fit(
        self,
        page: QWidget,
        key: FitKey,
        sizes: tuple[int, int],
        sheet_for: Callable[[int], str],
        redraw: Callable[[], None],
    ) -> None:
        """The largest size in `sizes` (floor, top) at which `page` fits, set on it. `sheet_for`
        gives the style sheet of a body text size; at `top` the page takes the window's."""
        floor, top = sizes

        def set_px(px: int) -> None:
            sheet = "" if px == top else sheet_for(px)
            if sheet != page.styleSheet():
                page.setStyleSheet(sheet)
                redraw()  # sizes that follow the font (icons) are set when drawing

        known = self._fitted.get(key, top)
        set_px(known)
        if not self.overflows():
            self._fitted[key] = known
            return
        low, high = floor, known - 1  # binary search: the largest size that fits
        while low < high:
            middle = (low + high + 1) // 2
            set_px(middle)
            if self.overflows():
                high = middle - 1
            else:
                low = middle
        set_px(low)
        settle(page)  # the last size tried may not be the one kept
        self._fitted[key] = low

    def overflows(self) -> bool:
        return page_overflows(self._viewport, self._stack)
