"""Operator administration of stations (used by the CLI and by tests)."""

from __future__ import annotations

import re

from backend import auth
from backend.config import Settings
from backend.db import Database
from backend.models import Station

STATION_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


class StationError(ValueError):
    pass


def add_station(db: Database, settings: Settings, station_id: str, name: str = "") -> str:
    """Register a station and return its API key (the only time the key exists in clear)."""
    if not STATION_ID.match(station_id):
        raise StationError(
            f"station id {station_id!r}: use 1 to 64 letters, digits, '.', '_', ':' or '-'"
        )
    key = auth.issue_key()
    with db.session() as s:
        if s.get(Station, station_id) is not None:
            raise StationError(f"station {station_id!r} exists already (use rotate-key)")
        s.add(
            Station(
                id=station_id,
                name=name,
                key_id=key.key_id,
                key_hash=key.key_hash,
                created_at=settings.now(),
            )
        )
    return key.plaintext


def rotate_key(db: Database, station_id: str) -> str:
    """Replace a station's key (the old one stops working at once) and return the new one."""
    key = auth.issue_key()
    with db.session() as s:
        station = s.get(Station, station_id)
        if station is None:
            raise StationError(f"station {station_id!r}: not registered")
        station.key_id, station.key_hash = key.key_id, key.key_hash
    return key.plaintext


def ensure_station_key(db: Database, settings: Settings, station_id: str, plaintext: str) -> None:
    """Register the station with this key, or give a registered one this key (the embedded
    backend: the kiosk that starts it chose the key and keeps it in a private file)."""
    if not STATION_ID.match(station_id):
        raise StationError(
            f"station id {station_id!r}: use 1 to 64 letters, digits, '.', '_', ':' or '-'"
        )
    parts = auth.split_key(plaintext)
    if parts is None:
        raise StationError("the key file does not hold a station key (evk_<16 hex>_<secret>)")
    key_id, secret = parts
    key_hash = auth.hash_secret(secret)
    with db.session() as s:
        station = s.get(Station, station_id)
        if station is None:
            s.add(
                Station(
                    id=station_id,
                    name="",
                    key_id=key_id,
                    key_hash=key_hash,
                    created_at=settings.now(),
                )
            )
        else:
            station.key_id, station.key_hash = key_id, key_hash
