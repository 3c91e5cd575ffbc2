"""How a session ends: the receipt, a failure that says what happened to the money, and the
safe screen shown when the app itself hit an error."""

from __future__ import annotations

from decimal import Decimal

from kiosk.snapshot import (
    Amount,
    BackToStart,
    ChooseConnector,
    CountdownKind,
    FailureReason,
    MoneyOutcome,
    PaymentMethod,
    Receipt,
)
from ui.i18n import Language
from ui.qt import QGridLayout, QHBoxLayout, QLabel, Qt, QVBoxLayout
from ui.screens.base import RenderContext, Screen, with_language
from ui.screens.price import render_countdown
from ui.widgets import CountdownBar, QrCode, button, card, label, restyle

# Failures after which the same connector can simply be tried again (a new price, a new payment).
RETRYABLE = frozenset(
    {
        FailureReason.CARD_DECLINED,
        FailureReason.CARD_PIN_REQUIRED,
        FailureReason.CARD_UNREADABLE,
        FailureReason.CARD_CANCELLED,
        FailureReason.CARD_TIMEOUT,
        FailureReason.TERMINAL_UNAVAILABLE,
        FailureReason.LINK_FAILED,
        FailureReason.LINK_EXPIRED,
        FailureReason.PLUG_TIMEOUT,
    }
)


def money_sentence(outcome: MoneyOutcome, lang: Language, amount: Amount | None) -> str:
    key = f"money.{outcome.value}"
    return lang.text(key, amount=lang.money(amount) if amount else "–")


def _rate(lang: Language, rate: Decimal) -> str:
    return lang.number(rate, 0 if rate % 1 == 0 else 1)


class ReceiptScreen(Screen):
    def __init__(self) -> None:
        super().__init__()
        self.title = label(role="title")
        self.reason = label(role="muted")
        self.reason.setObjectName("receipt_stop_reason")
        body = self.body = self.flex_row()
        self.box = card()
        self.grid = QGridLayout(self.box)
        self.grid.setVerticalSpacing(0)
        self.grid.setContentsMargins(8, 4, 8, 4)
        self.rows: list[tuple[QLabel, QLabel]] = []
        side = QVBoxLayout()
        self.qr = QrCode()
        self.qr.setObjectName("receipt_qr")
        self.scan = label(role="small")
        side.addWidget(self.qr, 1)
        side.addWidget(self.scan)
        # What happened to the money sits under the figures it explains, beside the code.
        details = QVBoxLayout()
        self.money = label(role="muted")
        details.addWidget(self.box)
        details.addWidget(self.money)
        details.addStretch(1)
        body.addLayout(details, 3)
        body.addLayout(side, 2)
        self.countdown = CountdownBar()
        self.done = button("", role="primary", name="done")
        bottom = self.flex_row()
        bottom.addWidget(self.countdown, 1)
        bottom.addWidget(self.done, 1)
        title_row = QHBoxLayout()
        title_row.addWidget(self.title)
        title_row.addWidget(self.reason, 1)
        self.page.addLayout(title_row)
        self.page.addLayout(body, 1)
        self.page.addLayout(bottom)
        self._session = ""
        self._inline: frozenset[int] = frozenset()  # short rows, side by side when stacked
        self.done.clicked.connect(lambda: self.send(BackToStart(self._session)))

    def _place_rows(self) -> None:
        # Name and value side by side, also on a narrow page: one line per row keeps the
        # receipt, its code and Done on one screen.
        align = Qt.AlignmentFlag.AlignVCenter
        for i, (name, value) in enumerate(self.rows):
            self.grid.addWidget(name, i, 0)
            self.grid.addWidget(value, i, 1)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | align)

    def lines(self, r: Receipt, ctx: RenderContext) -> list[tuple[str, str]]:
        lang = ctx.lang
        out = [
            (lang.text("receipt.energy"), lang.energy_kwh(r.energy_wh)),
            (
                lang.text("receipt.duration"),
                lang.duration(int((r.ended_at - r.started_at).total_seconds())),
            ),
            (
                lang.text("receipt.period"),
                f"{lang.date_time(r.started_at, ctx.zone)} – "
                f"{lang.clock_time(r.ended_at, ctx.zone)}",
            ),
        ]
        if r.meter_start_wh is not None and r.meter_end_wh is not None:
            out.append(
                (
                    lang.text("receipt.meter"),
                    f"{lang.number(Decimal(r.meter_start_wh) / 1000, 2)} → "
                    f"{lang.energy_kwh(r.meter_end_wh)}",
                )
            )
        # Every price component booked (energy, time, parking, fee): parking is never hidden.
        out.extend(
            (lang.text(f"receipt.line.{line.component}"), lang.money(line.amount))
            for line in r.cost_lines
        )
        out.append((lang.text("receipt.net"), lang.money(r.net)))
        out.extend(
            (lang.text("receipt.vat", rate=_rate(lang, v.rate_percent)), lang.money(v.vat))
            for v in r.vat_lines
        )
        out.append((lang.text("receipt.total"), lang.money(r.total)))
        released = r.hold.minor - r.total.minor
        refused = r.money is MoneyOutcome.CHARGE_REFUSED  # the hold was not touched
        # Paid through the operator (OCPP C25): the hold is the operator's, not ours to tell.
        operators = r.method is PaymentMethod.CSMS
        if released > 0 and r.hold.currency == r.total.currency and not refused and not operators:
            out.append(
                (lang.text("receipt.released"), lang.money(Amount(released, r.hold.currency)))
            )
        if r.method is PaymentMethod.CARD:
            paid = " ".join(p for p in (r.card_brand, r.masked_pan) if p) or lang.text("pay.card")
        elif operators:
            paid = lang.text("pay.csms")
        else:
            paid = lang.text("receipt.qr_payment")
        out.append((lang.text("receipt.paid_with"), paid))
        if r.receipt_no is not None:
            out.append((lang.text("receipt.number"), str(r.receipt_no)))
        return out

    def draw(self, ctx: RenderContext) -> None:
        view, lang = ctx.focus, ctx.lang
        assert view is not None and view.receipt is not None
        r = view.receipt
        self._session = view.session_id
        self.title.setText(lang.text("receipt.title"))
        reason = r.stop_reason
        self.reason.setText(lang.text(f"stop_reason.{reason.value}") if reason else "")
        lines = self.lines(r, ctx)
        wide = {lang.text(k) for k in ("receipt.period", "receipt.meter", "receipt.paid_with")}
        inline = frozenset(i for i, (name, _) in enumerate(lines) if name not in wide)
        grow = len(self.rows) < len(lines) or inline != self._inline
        self._inline = inline
        while len(self.rows) < len(lines):
            name, value = label(), label(wrap=False)  # a long name wraps, a value never
            value.setObjectName(f"receipt_value_{len(self.rows)}")
            self.rows.append((name, value))
        if grow:
            self._place_rows()
        for i, (name, value) in enumerate(self.rows):
            visible = i < len(lines)
            name.setVisible(visible)
            value.setVisible(visible)
            if visible:
                name.setText(lines[i][0])
                value.setText(lines[i][1])
                total = lines[i][0] == lang.text("receipt.total")
                restyle(name, "compact-total" if total else "compact")
                restyle(value, "compact-total" if total else "compact")
        self.qr.set_data(with_language(r.receipt_url or "", lang))
        self.qr.setVisible(bool(r.receipt_url))
        self.scan.setText(lang.text("receipt.scan") if r.receipt_url else "")
        self.money.setText(money_sentence(r.money, lang, r.total))
        self.done.setText(lang.text("common.done"))
        render_countdown(self.countdown, ctx, CountdownKind.RECEIPT)

    def texts(self) -> list[tuple[str, str]]:
        """What the receipt shows, row by row (for tests and the service journal view)."""
        return [(n.text(), v.text()) for n, v in self.rows if not n.isHidden()]


class FailureScreen(Screen):
    def __init__(self) -> None:
        super().__init__()
        self.title = label(role="title")
        self.reason = label(role="title")
        self.reason.setObjectName("failure_reason")
        self.money = label(role="status-ok")
        self.money.setObjectName("failure_money")
        self.countdown = CountdownBar()
        row = self.flex_row(primary_last=True)
        self.back = button("", name="back")
        self.retry = button("", role="primary", name="retry")
        row.addWidget(self.back)
        row.addWidget(self.retry)
        self.page.addWidget(self.title)
        self.page.addWidget(self.reason)
        self.page.addWidget(self.money)
        self.page.addStretch(1)
        self.page.addWidget(self.countdown)
        self.page.addLayout(row)
        self._session = ""
        self._connector = ""
        self.back.clicked.connect(lambda: self.send(BackToStart(self._session)))
        self.retry.clicked.connect(self._retry)

    def _retry(self) -> None:
        # Close the failed session first; the runtime takes intents in order.
        self.send(BackToStart(self._session))
        self.send(ChooseConnector(self._connector))

    def draw(self, ctx: RenderContext) -> None:
        view, lang = ctx.focus, ctx.lang
        assert view is not None and view.failure is not None
        failure = view.failure
        self._session, self._connector = view.session_id, view.connector_id
        self.title.setText(lang.text("failure.title"))
        self.reason.setText(lang.text(f"failure.{failure.reason.value}"))
        amount = view.receipt.total if view.receipt else None
        self.money.setText(money_sentence(failure.money, lang, amount))
        tile = next(
            (t for t in ctx.snapshot.connectors if t.connector_id == view.connector_id), None
        )
        can_retry = failure.reason in RETRYABLE and tile is not None and tile.selectable
        self.retry.setVisible(can_retry)
        self.retry.setText(lang.text("failure.retry"))
        self.back.setText(lang.text("common.back"))
        render_countdown(self.countdown, ctx, *CountdownKind)


class SafeErrorScreen(Screen):
    """Shown when the app itself failed. It promises only what the core guarantees."""

    def __init__(self) -> None:
        super().__init__()
        self.title = label(role="title")
        self.body = label()
        self.back = button("", role="primary", name="back")
        self.page.addWidget(self.title)
        self.page.addWidget(self.body)
        self.page.addStretch(1)
        self.page.addWidget(self.back)
        self.back.clicked.connect(lambda: self.send(BackToStart(None)))

    def draw(self, ctx: RenderContext) -> None:
        self.title.setText(ctx.lang.text("error.title"))
        self.body.setText(ctx.lang.text("error.body"))
        self.back.setText(ctx.lang.text("common.back"))
