"""The station as configured, before any device has answered: what the runtime starts from,
and what a screen shows while the runtime and its devices are still being built."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from kiosk.config import StationConfig
from kiosk.runtime.view import build_snapshot
from kiosk.session.model import ConnectorConf, Station
from kiosk.snapshot import StationSnapshot


def configured_station(config: StationConfig, signing: Collection[str] = ()) -> Station:
    """No session, no reading yet; `signing`: the connectors whose meter signs (OCMF)."""
    return Station(
        policy=config.policy,
        connectors=tuple(
            ConnectorConf(
                c.id,
                c.label,
                c.type,
                str(c.max_kw),
                tuple(c.labels.items()),
                signing=c.id in signing,
            )
            for c in config.connectors
        ),
    )


def starting_snapshot(config: StationConfig, now: datetime) -> StationSnapshot:
    """Every tile "connecting…", nothing selectable, no price yet: the journal (which holds a
    CSMS's tariffs) is not open, so the runtime's first snapshot brings the price in force."""
    return build_snapshot(
        seq=0,  # the runtime's own snapshots count from 1 and replace this one
        now=now,
        st=configured_station(config),
        name=config.name,
        locales=config.locales,
        offers={},
        notice=None,
        terminal_ready=config.terminal is not None,
        qr_available=False,
    )
