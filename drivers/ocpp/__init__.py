"""OCPP: the station in an operator's network (the CSMS link). See docs/ocpp.md."""

from __future__ import annotations

from drivers.ocpp.link import CsmsLink, LinkTiming
from kiosk.config import OcppConfig
from kiosk.runtime.core import Runtime

__all__ = ["CsmsLink", "LinkTiming", "connect_station"]


def connect_station(
    runtime: Runtime, config: OcppConfig, *, timing: LinkTiming | None = None
) -> CsmsLink:
    """Wire a (not yet started) link to a runtime before the runtime starts: from then on each
    machine step queues what the CSMS must hear, and every snapshot updates the connector
    statuses and wakes the link. Start it with `.start()`, stop it after the runtime."""
    currencies = {offer.currency for offer in runtime.offers.values()}
    link = CsmsLink(
        config,
        runtime.journal,
        timing=timing,
        on_change=runtime.republish,
        currency=min(currencies) if currencies else "EUR",
    )
    link.attach()
    runtime.subscribe(link.snapshot)
    return link
