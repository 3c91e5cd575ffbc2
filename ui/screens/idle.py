"""The attract screen: one tile per connector (type, max kW, status as icon + text, price)."""

from __future__ import annotations

from kiosk.snapshot import ChooseConnector, ConnectorTile
from kiosk.tariff import wording
from ui.qt import QGridLayout, QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget
from ui.screens.base import RenderContext, Screen, connector_type, reason_text, tile_label
from ui.widgets import STATUS_LOOK, QrCode, StatusIcon, label, restyle

CONNECTING_LOOK = ("busy.svg", "status-warn")  # the station is starting: not a fault


class ConnectorButton(QPushButton):
    """A whole tile is one touch target; its texts are child labels."""

    def __init__(self) -> None:
        super().__init__()
        self.setProperty("role", "tile")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.connector_id = ""
        grid = QVBoxLayout(self)
        # Tight, so that a tile on a small panel keeps room for the operator's QR code.
        grid.setContentsMargins(8, 8, 8, 8)
        grid.setSpacing(3)
        self.name = label(role="title", wrap=False)
        self.kind = label()
        status_row = QHBoxLayout()
        self.status_icon = StatusIcon()
        # A station starts with its tiles "connecting…": born with that look, the first frame
        # needs no re-polish (see restyle).
        self.status = label(role=CONNECTING_LOOK[1])
        status_row.addWidget(self.status_icon)
        status_row.addWidget(self.status, 1)
        self.price = label(role="muted")
        self.price.setObjectName("tile_price")
        self.next_price = label(role="small")
        self.next_price.setObjectName("tile_next_price")
        self.reason = label(role="small")
        # OCPP C25: the operator's QR code (its URL as the CSMS's template says: the code is
        # checked by the CSMS, so no language is added), or that a phone is paying.
        self.web_pay = label(role="small")
        self.web_pay.setObjectName("tile_web_pay")
        self.web_qr = QrCode(compact=True)  # below the tile's texts, on a small panel too
        self.web_qr.setObjectName("tile_web_qr")
        grid.addWidget(self.name)
        grid.addWidget(self.kind)
        grid.addLayout(status_row)
        grid.addWidget(self.price)
        grid.addWidget(self.next_price)
        grid.addWidget(self.reason)
        # The code takes the room the texts leave (a larger code is read from further away);
        # without one the stretch keeps the texts at the top.
        grid.addWidget(self.web_pay)
        grid.addWidget(self.web_qr, 1)
        grid.addStretch(0)

    def show_tile(self, tile: ConnectorTile, ctx: RenderContext) -> None:
        lang = ctx.lang
        self.connector_id = tile.connector_id
        self.setObjectName(f"tile_{tile.connector_id}")
        self.name.setText(tile_label(tile, lang))
        kw = lang.number(tile.max_kw, 0 if tile.max_kw == tile.max_kw.to_integral() else 1)
        power = lang.text("tile.max_kw", kw=kw)
        self.kind.setText(
            lang.text("tile.kind", type=connector_type(tile.connector_type, lang), power=power)
        )
        connecting = tile.reason_code == "connecting"  # its devices have not answered yet
        # A driver paying on a phone with the operator's code holds the connector (C25).
        paying = tile.web_paying_until is not None
        waiting = connecting or paying
        icon, role = CONNECTING_LOOK if waiting else STATUS_LOOK[tile.status]
        restyle(self.status, role)
        self.status.ensurePolished()  # the font of the current text size
        self.status_icon.set_icon(icon, max(24, self.status.fontMetrics().height()))
        status = (
            "status.connecting"
            if connecting
            else "tile.web_paying"
            if paying
            else f"status.{tile.status.value}"
        )
        self.status.setText(lang.text(status))
        # The price in force now (AFIR: before the session starts), and its next change.
        price = tile.price
        self.price.setText(wording.now_text(price, lang) if price is not None else "")
        coming = wording.next_text(price, lang, ctx.zone, lang.time) if price is not None else ""
        self.next_price.setText(coming)
        self.next_price.setVisible(bool(coming))
        busy = tile.session_id is not None
        extra = reason_text(tile, lang) or (lang.text("tile.busy") if busy else "")
        self.reason.setText(extra)
        self.reason.setVisible(bool(extra))
        offer = bool(tile.web_pay_url) and not paying
        self.web_pay.setText(lang.text("tile.web_pay") if offer else "")
        self.web_pay.setVisible(offer)
        if offer:
            self.web_qr.set_data(tile.web_pay_url or "")
        self.web_qr.setVisible(offer)
        self.setEnabled(tile.selectable)
        self.setAccessibleName(f"{self.name.text()}, {self.status.text()}")


class IdleScreen(Screen):
    def __init__(self) -> None:
        super().__init__()
        self.title = label(role="title")
        self.hint = label(role="muted")
        self.notice = label(role="notice")
        self.tiles_box = QWidget()
        self.grid = QGridLayout(self.tiles_box)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.methods = label(role="muted")
        self.page.addWidget(self.title)
        self.page.addWidget(self.hint)
        self.page.addWidget(self.notice)
        self.page.addWidget(self.tiles_box, 1)
        self.page.addWidget(self.methods)
        self.tiles: list[ConnectorButton] = []
        self._columns = 0

    def _ensure_tiles(self, count: int, columns: int) -> None:
        while len(self.tiles) < count:
            tile = ConnectorButton()
            tile.clicked.connect(lambda _=False, t=tile: self.send(ChooseConnector(t.connector_id)))
            self.tiles.append(tile)
        if columns != self._columns or any(t.parent() is None for t in self.tiles[:count]):
            for tile in self.tiles:
                self.grid.removeWidget(tile)
            for i, tile in enumerate(self.tiles[:count]):
                self.grid.addWidget(tile, i // columns, i % columns)
            self._columns = columns
        for i, tile in enumerate(self.tiles):
            tile.setVisible(i < count)

    def tick(self, ctx: RenderContext) -> None:
        """Nothing here moves with the clock (a price change comes as a new snapshot): an idle
        station repaints nothing between snapshots."""

    def draw(self, ctx: RenderContext) -> None:
        snap, lang = ctx.snapshot, ctx.lang
        self.title.setText(lang.text("idle.title"))
        self.hint.setText(lang.text("idle.hint"))
        self.notice.setText(snap.notice or "")
        self.notice.setVisible(bool(snap.notice))
        count = len(snap.connectors)
        portrait = self.height() > self.width()
        columns = 1 if portrait or count == 1 else min(count, 3)
        self._ensure_tiles(count, columns)
        for tile, data in zip(self.tiles, snap.connectors, strict=False):
            tile.show_tile(data, ctx)
        methods = {
            (True, True): "idle.pay_methods",
            (True, False): "idle.card_only",
            (False, True): "idle.qr_only",
            (False, False): "idle.no_payment",
        }[(snap.terminal_ready, snap.qr_available)]
        self.methods.setText(lang.text(methods))
