"""What every screen gets to render with, and the base class that carries the intent signal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kiosk.snapshot import (
    ConnectorTile,
    Countdown,
    CountdownKind,
    Intent,
    SessionView,
    StationSnapshot,
)
from ui.i18n import Language
from ui.qt import QBoxLayout, QHBoxLayout, QVBoxLayout, QWidget, Signal


@dataclass(frozen=True)
class RenderContext:
    snapshot: StationSnapshot
    lang: Language
    zone: tzinfo
    now: datetime  # from the injected clock: countdowns and elapsed time use it

    @property
    def focus(self) -> SessionView | None:
        return self.snapshot.focus

    def countdown(self, *kinds: CountdownKind) -> Countdown | None:
        if self.focus is None:
            return None
        return next((c for c in self.focus.countdowns if c.kind in kinds), None)

    def remaining_s(self, countdown: Countdown) -> int:
        # Round up: "0 s" shows only when the deadline has passed.
        seconds = (countdown.ends_at - self.now).total_seconds()
        return max(0, int(seconds + 0.999))

    def tile(self, connector_id: str) -> ConnectorTile | None:
        return next((t for t in self.snapshot.connectors if t.connector_id == connector_id), None)

    def connector_label(self, connector_id: str) -> str:
        """The connector's label in the screen's language, as the station configured it."""
        tile = self.tile(connector_id)
        return tile_label(tile, self.lang) if tile else connector_id


def with_language(url: str, lang: Language) -> str:
    """A phone page's address with the driver's language (?lang=de): the pay page and the
    digital receipt open in the language chosen at the kiosk."""
    if not url:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "lang"] + [("lang", lang.code)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def tile_label(tile: ConnectorTile, lang: Language) -> str:
    return lang.pick(tile.labels, tile.label)


def connector_type(raw: str, lang: Language) -> str:
    """ "Type 2" as the screen's language says it ("Typ 2"); a type no language file knows is
    shown as configured."""
    key = "type." + "".join(ch for ch in raw.lower() if ch.isalnum())
    return lang.text(key) if key in lang.strings else raw


def reason_text(tile: ConnectorTile, lang: Language) -> str:
    """Why a connector cannot be used, in the screen's language ("" when nothing is wrong)."""
    key = f"reason.{tile.reason_code}"
    return lang.text(key) if tile.reason_code and key in lang.strings else ""


class Screen(QWidget):
    """A full-window page. `intent` carries what the driver asked for to the window."""

    intent = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.page = QVBoxLayout(self)
        self.page.setContentsMargins(0, 4, 0, 0)
        self.page.setSpacing(6)
        self.flex_rows: list[QBoxLayout] = []
        self._primary_last: set[int] = set()
        self.stacked = False

    def flex_row(self, primary_last: bool = False) -> QHBoxLayout:
        """A row that turns into a column when the page is stacked (large text, narrow).
        `primary_last`: the main action sits right in the row, so it goes on top in a column."""
        row = QHBoxLayout()
        self.flex_rows.append(row)
        if primary_last:
            self._primary_last.add(id(row))
        return row

    def set_stacked(self, stacked: bool) -> None:
        if stacked == self.stacked:
            return
        self.stacked = stacked
        for row in self.flex_rows:
            if not stacked:
                row.setDirection(QBoxLayout.Direction.LeftToRight)
            elif id(row) in self._primary_last:
                row.setDirection(QBoxLayout.Direction.BottomToTop)
            else:
                row.setDirection(QBoxLayout.Direction.TopToBottom)

    def draw(self, ctx: RenderContext) -> None:
        raise NotImplementedError

    def tick(self, ctx: RenderContext) -> None:
        """Called every clock tick between snapshots; most screens just render again."""
        self.draw(ctx)

    def send(self, intent: Intent) -> None:
        self.intent.emit(intent)
