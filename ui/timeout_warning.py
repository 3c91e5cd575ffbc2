"""The "Do you need more time?" overlay (WCAG 2.2.1), shown by the window over any page."""

from __future__ import annotations

from kiosk.snapshot import Countdown
from ui.qt import QFrame, QVBoxLayout, QWidget
from ui.screens.base import RenderContext
from ui.widgets import button, label


class TimeoutWarning(QFrame):
    """WCAG 2.2.1: warn before time runs out; one large tap gives more time."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setProperty("role", "overlay")
        self.setObjectName("timeout_warning")
        box = QVBoxLayout(self)
        self.title = label(role="title")
        self.remaining = label(role="figure", wrap=False)
        self.more = button("", role="primary", name="more_time")
        box.addWidget(self.title)
        box.addWidget(self.remaining)
        box.addStretch(1)
        box.addWidget(self.more)
        self.hide()

    def show_for(self, countdown: Countdown, ctx: RenderContext) -> None:
        self.title.setText(ctx.lang.text("timeout.warning"))
        self.remaining.setText(ctx.lang.duration(ctx.remaining_s(countdown)))
        self.more.setText(ctx.lang.text("common.more_time"))
        self.show()
