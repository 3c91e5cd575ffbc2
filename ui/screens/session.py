"""From "approved" to "stopped": plug in, starting, charging (live values, Stop), stopping."""

from __future__ import annotations

from kiosk.snapshot import (
    Cancel,
    ConnectorStatus,
    CountdownKind,
    OperatorFigure,
    PaymentMethod,
    Phase,
    StopCharging,
)
from ui.i18n import Language
from ui.qt import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout
from ui.screens.base import RenderContext, Screen, connector_type
from ui.screens.price import render_countdown
from ui.widgets import CountdownBar, StatusIcon, button, card, label, restyle


class PlugScreen(Screen):
    def __init__(self) -> None:
        super().__init__()
        self.approved = label(role="status-ok")
        self.title = label(role="title")
        self.which = label(role="strong")
        self.which.setObjectName("plug_connector")
        self.hint = label()
        self.countdown = CountdownBar()
        self.cancel = button("", name="cancel")
        self.page.addWidget(self.approved)
        self.page.addWidget(self.title)
        self.page.addWidget(self.which)
        self.page.addWidget(self.hint)
        self.page.addStretch(1)
        self.page.addWidget(self.countdown)
        self.page.addWidget(self.cancel)
        self._session = ""
        self.cancel.clicked.connect(lambda: self.send(Cancel(self._session)))

    def draw(self, ctx: RenderContext) -> None:
        view, lang = ctx.focus, ctx.lang
        assert view is not None
        self._session = view.session_id
        if view.method is PaymentMethod.CSMS:
            self.approved.setText(lang.text("plug.paid_operator"))  # no hold of ours (C25)
        elif view.hold is not None:
            # While the operator's CSMS is asked to accept the payment, the screen says so.
            key = "plug.operator_check" if view.operator_checking else "plug.approved"
            self.approved.setText(lang.text(key, amount=lang.money(view.hold)))
        self.title.setText(lang.text("plug.title"))
        tile = ctx.tile(view.connector_id)
        kind = connector_type(tile.connector_type, lang) if tile else ""
        # Which connector: a station has several, and the driver may have walked away.
        self.which.setText(
            lang.text("plug.which", label=ctx.connector_label(view.connector_id), type=kind)
        )
        self.hint.setText(lang.text("plug.hint"))
        self.cancel.setText(lang.text("common.cancel"))
        render_countdown(self.countdown, ctx, CountdownKind.PLUG_IN)


class StartingScreen(Screen):
    def __init__(self) -> None:
        super().__init__()
        self.title = label(role="title")
        self.hint = label()
        self.cancel = button("", name="cancel")
        self.page.addWidget(self.title)
        self.page.addWidget(self.hint)
        self.page.addStretch(1)
        self.page.addWidget(self.cancel)
        self._session = ""
        self.cancel.clicked.connect(lambda: self.send(Cancel(self._session)))

    def draw(self, ctx: RenderContext) -> None:
        view, lang = ctx.focus, ctx.lang
        assert view is not None
        self._session = view.session_id
        self.title.setText(lang.text("starting.title"))
        self.hint.setText(lang.text("starting.hint"))
        self.cancel.setText(lang.text("common.cancel"))


class ChargingScreen(Screen):
    """Live kWh, kW, time and cost; Stop asks first (an in-window overlay, not a modal loop)."""

    def __init__(self) -> None:
        super().__init__()
        header = QHBoxLayout()
        self.icon = StatusIcon()
        self.title = label(role="title")
        header.addWidget(self.icon)
        header.addWidget(self.title, 1)
        self.paused_hint = label(role="notice")
        self.figures = card()
        self.grid = QGridLayout(self.figures)
        self.values: dict[str, tuple[QLabel, QLabel]] = {}
        for key in ("energy", "power", "time", "cost"):
            caption, value = label(role="muted"), label(role="figure", wrap=False)
            value.setObjectName(f"live_{key}")
            self.values[key] = (caption, value)
        self._place_figures(columns=2)
        self.cap = label(role="small")
        self.operator = label(role="small")  # the CSMS's figure (OCPP 2.0.1 central cost)
        self.operator.setObjectName("operator_figure")
        self.informative = label(role="small")
        self.informative.setObjectName("live_informative")
        self.stop = button("", role="danger", name="stop")
        self.page.addLayout(header)
        self.page.addWidget(self.paused_hint)
        self.page.addWidget(self.figures, 1)
        self.page.addWidget(self.informative)
        self.page.addWidget(self.cap)
        self.page.addWidget(self.operator)
        self.page.addWidget(self.stop)

        # Confirmation overlay: same page, so nothing else can be tapped behind it.
        self.confirm = QFrame(self)
        self.confirm.setProperty("role", "overlay")
        box = QVBoxLayout(self.confirm)
        self.confirm_title = label(role="title")
        self.confirm_body = label()
        row = self.flex_row()
        self.confirm_no = button("", role="primary", name="stop_no")
        self.confirm_yes = button("", role="danger", name="stop_yes")
        row.addWidget(self.confirm_no)
        row.addWidget(self.confirm_yes)
        box.addWidget(self.confirm_title)
        box.addWidget(self.confirm_body)
        box.addStretch(1)
        box.addLayout(row)
        self.confirm.hide()

        self._session = ""
        self.stop.clicked.connect(self._ask)
        self.confirm_no.clicked.connect(self.confirm.hide)
        self.confirm_yes.clicked.connect(self._confirmed)

    def _place_figures(self, columns: int) -> None:
        for caption, value in self.values.values():
            self.grid.removeWidget(caption)
            self.grid.removeWidget(value)
        for i, (caption, value) in enumerate(self.values.values()):
            row, col = (i // columns) * 2, i % columns
            self.grid.addWidget(caption, row, col)
            self.grid.addWidget(value, row + 1, col)

    def set_stacked(self, stacked: bool) -> None:
        if stacked != self.stacked:
            self._place_figures(columns=1 if stacked else 2)
        super().set_stacked(stacked)

    def _ask(self) -> None:
        self.confirm.setGeometry(self.rect().adjusted(16, 16, -16, -16))
        self.confirm.show()
        self.confirm.raise_()

    def _confirmed(self) -> None:
        self.confirm.hide()
        self.send(StopCharging(self._session))

    def resizeEvent(self, event: object) -> None:
        self.confirm.setGeometry(self.rect().adjusted(16, 16, -16, -16))

    def draw(self, ctx: RenderContext) -> None:
        view, lang, snap = ctx.focus, ctx.lang, ctx.snapshot
        assert view is not None
        if view.session_id != self._session:
            self.confirm.hide()  # a confirmation is never carried over to another session
        self._session = view.session_id
        tile = next((t for t in snap.connectors if t.connector_id == view.connector_id), None)
        paused = tile is not None and tile.status is ConnectorStatus.SUSPENDED_EV
        self.title.setText(lang.text("charging.paused" if paused else "charging.title"))
        self.title.ensurePolished()  # the font of the current text size
        self.icon.set_icon(
            "paused.svg" if paused else "charging.svg",
            max(32, self.title.fontMetrics().height()),
        )
        self.paused_hint.setText(lang.text("charging.paused_hint"))
        self.paused_hint.setVisible(paused)
        live = view.live
        # Elapsed time runs on the screen's clock so it moves every second between readings.
        elapsed = int((ctx.now - live.started_at).total_seconds()) if live else 0
        texts = {
            "energy": lang.energy_kwh(live.energy_wh) if live else "–",
            "power": lang.power_kw(live.power_w) if live else "–",
            "time": lang.duration(elapsed) if live else "–",
            "cost": lang.money(live.cost) if live else "–",
        }
        for key, (caption, value) in self.values.items():
            caption.setText(lang.text(f"charging.{key}"))
            value.setText(texts[key])
        self.cap.setText(
            lang.text("charging.cap", amount=lang.money(view.hold)) if view.hold else ""
        )
        self.operator.setText(operator_lines(view.operator, lang))
        self.operator.setVisible(view.operator is not None)
        # On a signing meter the signed reading bills: the live figures are informative.
        informative = live is not None and live.informative
        self.informative.setText(lang.text("charging.informative") if informative else "")
        self.informative.setVisible(informative)
        self.stop.setText(lang.text("charging.stop"))
        self.confirm_title.setText(lang.text("stop.confirm_title"))
        body = "stop.confirm_body_about" if informative else "stop.confirm_body"
        self.confirm_body.setText(lang.text(body, amount=texts["cost"]))
        self.confirm_yes.setText(lang.text("stop.confirm_yes"))
        self.confirm_no.setText(lang.text("stop.confirm_no"))


class StoppingScreen(Screen):
    """STOPPING and SETTLING: why it stopped, unplug, and that the payment is being completed."""

    def __init__(self) -> None:
        super().__init__()
        self.title = label(role="title")
        self.reason = label(role="notice")
        self.unplug = label()
        self.settling = label(role="muted")
        self.energy = label(role="figure", wrap=False)
        self.energy.setObjectName("final_energy")
        self.cost = label(role="figure", wrap=False)
        self.cost.setObjectName("final_cost")
        self.page.addWidget(self.title)
        self.page.addWidget(self.reason)
        self.page.addWidget(self.energy)
        self.page.addWidget(self.cost)
        self.page.addWidget(self.unplug)
        self.page.addWidget(self.settling)
        self.page.addStretch(1)

    def draw(self, ctx: RenderContext) -> None:
        view, lang = ctx.focus, ctx.lang
        assert view is not None
        settling = view.phase is Phase.SETTLING
        self.title.setText(lang.text("settling.title" if settling else "stopping.title"))
        reason = view.stop_reason
        self.reason.setText(lang.text(f"stop_reason.{reason.value}") if reason else "")
        self.reason.setVisible(reason is not None)
        live = view.live
        self.energy.setText(lang.energy_kwh(live.energy_wh) if live else "")
        self.cost.setText(lang.money(live.cost) if live else "")
        self.unplug.setText(lang.text("stopping.unplug"))
        self.settling.setText(lang.text("settling.hint"))
        restyle(self.title, "title")


def operator_lines(figure: OperatorFigure | None, lang: Language) -> str:
    """The CSMS's running cost and text, labelled as the operator's: the driver pays the
    station's own cost, shown above it."""
    if figure is None:
        return ""
    lines = []
    if figure.total is not None:
        lines.append(lang.text("charging.operator_cost", amount=lang.money(figure.total)))
    if figure.text:
        lines.append(lang.text("charging.operator_text", text=figure.text))
    return "\n".join(lines)
