"""Paying: the card prompt (with the terminal's own texts) and the QR payment link."""

from __future__ import annotations

from kiosk.snapshot import Cancel, CountdownKind
from ui.qt import QHBoxLayout, QVBoxLayout
from ui.screens.base import RenderContext, Screen, with_language
from ui.screens.price import render_countdown
from ui.widgets import CountdownBar, QrCode, StatusIcon, button, card, label


class CardScreen(Screen):
    def __init__(self) -> None:
        super().__init__()
        self.title = label(role="title")
        self.hint = label()
        self.box = card()
        box = QHBoxLayout(self.box)
        self.icon = StatusIcon()
        self.terminal = label(role="title")  # the terminal's words, big: "PIN eingeben"
        box.addWidget(self.icon)
        box.addWidget(self.terminal, 1)
        self.reserve = label(role="muted")
        self.countdown = CountdownBar()
        self.cancel = button("", name="cancel")
        self.page.addWidget(self.title)
        self.page.addWidget(self.hint)
        self.page.addWidget(self.box)
        self.page.addWidget(self.reserve)
        self.page.addStretch(1)
        self.page.addWidget(self.countdown)
        self.page.addWidget(self.cancel)
        self._session = ""
        self.cancel.clicked.connect(lambda: self.send(Cancel(self._session)))

    def draw(self, ctx: RenderContext) -> None:
        view, lang = ctx.focus, ctx.lang
        assert view is not None
        self._session = view.session_id
        self.title.setText(lang.text("card.title"))
        self.hint.setText(lang.text("card.hint"))
        # The terminal's display text (ZVT 04 FF) is shown as it comes: it is already in the
        # cardholder's language chosen on the terminal, and it tells what the terminal waits for.
        self.terminal.setText(view.terminal_text or lang.text("card.processing"))
        self.terminal.ensurePolished()  # the font of the current text size
        self.icon.set_icon("busy.svg", max(32, self.terminal.fontMetrics().height() * 2))
        if view.hold is not None:
            self.reserve.setText(lang.text("card.reserve", amount=lang.money(view.hold)))
        self.reserve.setVisible(view.hold is not None)
        self.cancel.setText(lang.text("common.cancel"))
        render_countdown(self.countdown, ctx, CountdownKind.CARD_WAIT)


class QrScreen(Screen):
    def __init__(self) -> None:
        super().__init__()
        self.title = label(role="title")
        body = self.flex_row()
        self.qr = QrCode()
        self.qr.setObjectName("payment_qr")
        side = QVBoxLayout()
        self.hint = label()
        self.status = label(role="notice")
        self.amount = label(role="muted")
        self.countdown = CountdownBar()
        self.cancel = button("", name="cancel")
        side.addWidget(self.hint)
        side.addWidget(self.status)
        side.addWidget(self.amount)
        side.addStretch(1)
        side.addWidget(self.countdown)
        side.addWidget(self.cancel)
        body.addWidget(self.qr, 1)
        body.addLayout(side, 1)
        self.page.addWidget(self.title)
        self.page.addLayout(body, 1)
        self._session = ""
        self.cancel.clicked.connect(lambda: self.send(Cancel(self._session)))

    def draw(self, ctx: RenderContext) -> None:
        view, lang = ctx.focus, ctx.lang
        assert view is not None
        self._session = view.session_id
        self.title.setText(lang.text("qr.title"))
        self.hint.setText(lang.text("qr.hint"))
        link = view.payment_link
        self.qr.set_data(with_language(link.url, lang) if link else "")
        self.qr.setVisible(link is not None)
        self.status.setText(lang.text("qr.waiting" if link else "qr.creating"))
        if view.hold is not None:
            self.amount.setText(lang.text("card.reserve", amount=lang.money(view.hold)))
        self.cancel.setText(lang.text("common.cancel"))
        render_countdown(self.countdown, ctx, CountdownKind.PAYMENT_LINK)
