"""Snapshot publication: the station as the screens show it, handed to every subscriber (the
Qt bridge, tests, the CLI) whenever something shown changed, and only then."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime

from kiosk.journal.store import Journal, JournalError
from kiosk.runtime.clock import Clock
from kiosk.runtime.devices import StationDevices
from kiosk.runtime.prices import PriceBoard
from kiosk.runtime.reporting import Reporting
from kiosk.runtime.view import build_snapshot
from kiosk.session.model import Offer, Station
from kiosk.snapshot import (
    CsmsLinkView,
    OperatorFigure,
    SessionView,
    SigningMeterView,
    StationSnapshot,
)

log = logging.getLogger(__name__)

Subscriber = Callable[[StationSnapshot], None]
# OCPP C25: a connector's dynamic QR code URL at a time, and when it changes (None: none).
WebPayCode = Callable[[str, datetime], tuple[str, datetime] | None]


class SnapshotPublisher:
    def __init__(
        self,
        *,
        name: str,
        locales: tuple[str, ...],
        clock: Clock,
        journal: Journal,
        devices: StationDevices,
        reporting: Reporting,
    ) -> None:
        self._name = name
        self._locales = locales
        self._clock = clock
        self._journal = journal
        self._devices = devices
        self._reporting = reporting
        self._subscribers: list[Subscriber] = []
        self._snapshot: StationSnapshot | None = None
        self._seq = 0
        self.web_pay: WebPayCode | None = None
        self._web_pay_next: datetime | None = None

    def web_pay_due(self, at: datetime) -> bool:
        """A QR code shown has a new one-time password by now."""
        return self._web_pay_next is not None and at >= self._web_pay_next

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)
        if self._snapshot is not None:
            subscriber(self._snapshot)

    @property
    def snapshot(self) -> StationSnapshot | None:
        return self._snapshot

    def _receipt_url(self) -> Callable[[str], str | None] | None:
        """The CSMS's receipt (OCPP C21, its answer to NotifySettlement) when the station
        has a CSMS link and it sent one; else the backend's."""
        backend = self._reporting.receipt_url()
        if self._journal.csms_feed is None:
            return backend

        def url_for(session_id: str) -> str | None:
            try:
                csms = self._journal.csms_receipt_url(session_id)
            except JournalError:
                csms = None
            return csms or (None if backend is None else backend(session_id))

        return url_for

    def publish(
        self,
        station: Station,
        fault: str | None,
        offers: Mapping[str, Offer],
        prices: PriceBoard,
        signing_meters: tuple[SigningMeterView, ...],
        *,
        operator: Mapping[str, OperatorFigure] | None = None,
        csms: CsmsLinkView | None = None,
    ) -> None:
        """The station now, with the offers and prices in force (a CSMS may replace them)."""
        notice = None
        if fault is not None:
            notice = "Out of order: the station cannot record payments. No new sessions."
        now = self._clock.now()
        snapshot = build_snapshot(
            seq=self._seq + 1,
            now=now,
            st=station,
            name=self._name,
            locales=self._locales,
            offers=offers,
            notice=notice,
            terminal_ready=self._devices.terminal is not None,
            # While the backend is unreachable the QR option is hidden; cards keep working.
            qr_available=self._devices.backend is not None and self._reporting.qr_available(),
            reporting=self._reporting.status,
            receipt_url=self._receipt_url(),
            prices=prices.at(now),
            signing_meters=signing_meters,
        )
        if operator:
            snapshot = with_operator_figures(snapshot, operator)
        if csms is not None:
            snapshot = replace(snapshot, csms=csms)
        if self.web_pay is not None:
            snapshot = self._with_web_pay(snapshot, now)
        last = self._snapshot
        if last is not None and replace(last, seq=snapshot.seq, published_at=now) == snapshot:
            # Nothing a screen shows changed (an idle station's meter polls, 1 Hz each):
            # subscribers are not woken, so an idle screen costs no CPU.
            return
        self._seq = snapshot.seq
        self._snapshot = snapshot
        for subscriber in list(self._subscribers):
            try:
                subscriber(snapshot)
            except Exception:
                log.exception("snapshot subscriber failed")

    def _with_web_pay(self, snapshot: StationSnapshot, now: datetime) -> StationSnapshot:
        """The operator's QR code on each free tile (OCPP C25), as of now."""
        assert self.web_pay is not None
        changes: list[datetime] = []
        tiles = []
        for tile in snapshot.connectors:
            made = None
            if tile.selectable and tile.session_id is None:
                made = self.web_pay(tile.connector_id, now)
            if made is not None:
                changes.append(made[1])
            tiles.append(tile if made is None else replace(tile, web_pay_url=made[0]))
        self._web_pay_next = min(changes, default=None)
        return replace(snapshot, connectors=tuple(tiles))


def with_operator_figures(
    snapshot: StationSnapshot, figures: Mapping[str, OperatorFigure]
) -> StationSnapshot:
    """The CSMS's figures on the views of the sessions they are for."""

    def put(view: SessionView) -> SessionView:
        figure = figures.get(view.session_id)
        return view if figure is None else replace(view, operator=figure)

    focus = None if snapshot.focus is None else put(snapshot.focus)
    return replace(snapshot, focus=focus, background=tuple(put(v) for v in snapshot.background))
