"""Price before anything starts (AFIR order, the hold explained), then the payment method."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.snapshot import (
    Cancel,
    ConfirmPrice,
    CountdownKind,
    PayByCard,
    PayByQr,
    PriceLine,
)
from kiosk.tariff import wording
from kiosk.tariff.lines import AFIR_ORDER
from ui.i18n import Language
from ui.qt import QLabel, QVBoxLayout
from ui.screens.base import RenderContext, Screen
from ui.widgets import BigButton, CountdownBar, button, card, label, restyle

if TYPE_CHECKING:
    from ui.qt import QResizeEvent


def afir_sorted(lines: tuple[PriceLine, ...]) -> list[PriceLine]:
    rank = {d: i for i, d in enumerate(AFIR_ORDER)}
    return sorted(lines, key=lambda line: rank.get(line.dimension, len(rank)))


def price_text(line: PriceLine, lang: Language, *, with_vat: bool = False) -> str:
    """One price line in the screen's language, built from its numbers and conditions."""
    return wording.line_text(line, lang, with_vat=with_vat)


class PriceScreen(Screen):
    def __init__(self) -> None:
        super().__init__()
        self.title = label(role="title")
        self.intro = label(role="muted")
        self.box = card()
        self.lines_layout = QVBoxLayout(self.box)
        self.next_change = label(role="small")
        self.next_change.setObjectName("price_next_change")
        self.hold = label()
        self.countdown = CountdownBar()
        buttons = self.flex_row(primary_last=True)
        self.cancel = button("", name="cancel")
        self.accept = button("", role="primary", name="accept_price")
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.accept, 2)
        self.page.addWidget(self.title)
        self.page.addWidget(self.intro)
        self.page.addWidget(self.box)
        self.page.addWidget(self.next_change)
        self.page.addWidget(self.hold)
        self.page.addStretch(1)
        self.page.addWidget(self.countdown)
        self.page.addLayout(buttons)
        self.line_labels: list[QLabel] = []
        self._session = ""
        self.cancel.clicked.connect(lambda: self.send(Cancel(self._session)))
        self.accept.clicked.connect(lambda: self.send(ConfirmPrice(self._session)))

    def _fit_lines(self) -> None:
        # A wrapped line inside the card does not make the card taller by itself (the page
        # layout asks the card for its height at one width): size it for its real width.
        margins = self.page.contentsMargins()
        width = self.width() - margins.left() - margins.right()
        self.box.setMinimumHeight(self.lines_layout.totalHeightForWidth(width))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_lines()

    def draw(self, ctx: RenderContext) -> None:
        view, lang = ctx.focus, ctx.lang
        assert view is not None
        self._session = view.session_id
        self.title.setText(lang.text("price.title", label=ctx.connector_label(view.connector_id)))
        self.intro.setText(lang.text("price.intro"))
        lines = afir_sorted(view.price_lines)
        rates = {line.vat_percent for line in lines}
        shared_rate = next(iter(rates)) if len(rates) == 1 else None
        now = view.price_now
        in_force = set(now.lines) if now is not None else set(lines)
        dimensions = [line.dimension for line in lines]
        while len(self.line_labels) < len(lines):
            main = label()
            main.setObjectName(f"price_line_{len(self.line_labels)}")
            self.lines_layout.insertWidget(len(self.line_labels), main)
            self.line_labels.append(main)
        for i, main in enumerate(self.line_labels):
            main.setVisible(i < len(lines))
            if i < len(lines):
                line = lines[i]
                price, details = wording.line_parts(line, lang, with_vat=shared_rate is None)
                applies = line in in_force
                if applies and dimensions.count(line.dimension) > 1:
                    # Several prices for one component: say which one applies now.
                    mark = "price.depends" if line.when.conditional else "price.now"
                    price = lang.text(mark, price=price)
                main.setText(f"{price} ({details})" if details else price)
                restyle(main, "" if applies else "muted")
        self._fit_lines()
        # The coming change and the tariff's own words share one small line.
        coming = wording.next_text(now, lang, ctx.zone, lang.time) if now is not None else ""
        alt = wording.alt_text(view.alt_text, lang.code)
        self.next_change.setText(" · ".join(t for t in (coming, alt) if t))
        self.next_change.setVisible(bool(coming or alt))
        # One VAT note when every component has the same rate (the usual case), else per line.
        if shared_rate is not None:
            rate = lang.number(shared_rate, 0 if shared_rate % 1 == 0 else 1)
            self.intro.setText(lang.text("price.intro_vat", rate=rate))
        if view.hold is not None:
            self.hold.setText(lang.text("price.hold", amount=lang.money(view.hold)))
        self.hold.setVisible(view.hold is not None)
        self.cancel.setText(lang.text("common.cancel"))
        self.accept.setText(lang.text("price.accept"))
        render_countdown(self.countdown, ctx, CountdownKind.PRICE_CONFIRM)


def render_countdown(bar: CountdownBar, ctx: RenderContext, *kinds: CountdownKind) -> None:
    countdown = ctx.countdown(*kinds)
    if countdown is None:
        bar.setVisible(False)
        return
    remaining = ctx.remaining_s(countdown)
    text = ctx.lang.text(f"countdown.{countdown.kind.value}", time=ctx.lang.duration(remaining))
    bar.setText(text)
    bar.setVisible(True)


class PaymentChoiceScreen(Screen):
    def __init__(self) -> None:
        super().__init__()
        self.title = label(role="title")
        row = self.flex_row()
        self.card_button = BigButton("pay_card")
        self.qr_button = BigButton("pay_qr")
        for b in (self.card_button, self.qr_button):
            row.addWidget(b, 1)
        self.card_note = label(role="small")
        self.qr_note = label(role="small")
        notes = self.flex_row()
        notes.addWidget(self.card_note)
        notes.addWidget(self.qr_note)
        self.countdown = CountdownBar()
        self.cancel = button("", name="cancel")
        self.page.addWidget(self.title)
        self.page.addLayout(row, 3)
        self.page.addLayout(notes)
        self.page.addWidget(self.countdown)
        self.page.addWidget(self.cancel)
        self._session = ""
        self.card_button.clicked.connect(lambda: self.send(PayByCard(self._session)))
        self.qr_button.clicked.connect(lambda: self.send(PayByQr(self._session)))
        self.cancel.clicked.connect(lambda: self.send(Cancel(self._session)))

    def draw(self, ctx: RenderContext) -> None:
        view, lang, snap = ctx.focus, ctx.lang, ctx.snapshot
        assert view is not None
        self._session = view.session_id
        self.title.setText(lang.text("pay.title"))
        self.card_button.set_texts(lang.text("pay.card"), lang.text("pay.card_sub"))
        self.qr_button.set_texts(lang.text("pay.qr"), lang.text("pay.qr_sub"))
        self.card_button.setEnabled(snap.terminal_ready)
        self.qr_button.setEnabled(snap.qr_available)
        self.card_note.setText("" if snap.terminal_ready else lang.text("pay.card_unavailable"))
        self.qr_note.setText("" if snap.qr_available else lang.text("pay.qr_unavailable"))
        self.cancel.setText(lang.text("common.cancel"))
        render_countdown(self.countdown, ctx, CountdownKind.PRICE_CONFIRM)
