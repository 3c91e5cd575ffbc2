"""The price in force at each connector, kept current as the clock passes tariff boundaries.

Recomputed only when an instant a restriction can switch (or the announcement horizon) has
been reached, so publishing a snapshot every second costs a comparison, not a tariff walk.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.runtime.offers import tariff_of
from kiosk.session.model import Offer
from kiosk.tariff import PriceNow, price_now


class PriceBoard:
    def __init__(self, offers: Mapping[str, Offer], zone: ZoneInfo) -> None:
        self._offers = dict(offers)
        self._tariffs = {cid: tariff_of(offer.tariff_json) for cid, offer in offers.items()}
        self._zone = zone
        self._now: dict[str, PriceNow] = {}
        self._valid_until: datetime | None = None

    def due(self, at: datetime) -> bool:
        """True when the prices shown may have changed since they were computed."""
        return self._valid_until is None or at >= self._valid_until

    def at(self, at: datetime) -> Mapping[str, PriceNow]:
        if self.due(at):
            self._now = {
                cid: price_now(tariff, self._offers[cid].price_lines, self._zone, at)
                for cid, tariff in self._tariffs.items()
            }
            self._valid_until = min((p.valid_until for p in self._now.values()), default=None)
        return self._now
