"""Backend fixtures: the same service over real HTTP, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.app import create_app
from backend.config import Settings
from backend.services import Services, build_services
from backend.stations import add_station
from tests.backend.servers import PG_BIN, FakeClock, PostgresCluster, UvicornThread
from tests.conftest import require_executable

# The worked example of research/payments.md §1.8 (OCPI 2.2.1, prices excl. 19 % VAT).
TARIFF: dict[str, Any] = {
    "country_code": "DE",
    "party_id": "EVK",
    "id": "AD-HOC-1",
    "currency": "EUR",
    "type": "AD_HOC_PAYMENT",
    "elements": [
        {
            "price_components": [{"type": "ENERGY", "price": 0.59, "vat": 19, "step_size": 1}],
            "restrictions": {"start_time": "17:00", "end_time": "21:00"},
        },
        {
            "price_components": [
                {"type": "ENERGY", "price": 0.49, "vat": 19, "step_size": 1},
                {"type": "FLAT", "price": 0.35, "vat": 19, "step_size": 1},
            ]
        },
        {
            "price_components": [
                {"type": "PARKING_TIME", "price": 6.00, "vat": 19, "step_size": 300}
            ]
        },
    ],
    "last_updated": "2026-01-01T00:00:00Z",
}


def tariff() -> dict[str, Any]:
    return copy.deepcopy(TARIFF)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    require_executable("postgres", str(PG_BIN / "postgres"), package="postgresql")
    require_executable("initdb", str(PG_BIN / "initdb"), package="postgresql")
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@dataclass
class Backend:
    """A running backend: its URL, its services (for planting and sweeping), its clock."""

    url: str
    svc: Services
    clock: FakeClock
    db_url: str

    def station(self, station_id: str) -> httpx.Client:
        key = add_station(self.svc.db, self.svc.settings, station_id)
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


def db_url_for(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'backend.db'}"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()


def start_backend(db_url: str, **overrides: Any) -> tuple[UvicornThread, Backend]:
    clock = FakeClock()
    built: list[Services] = []

    def app_for(url: str) -> FastAPI:
        options: dict[str, Any] = {
            "sweep_interval_s": 0,  # tests run the sweep themselves, at the fake clock's time
            "stripe_webhook_secret": "whsec_test",
            **overrides,
        }
        settings = Settings(db_url=db_url, public_url=url, clock=clock, **options)
        built.append(build_services(settings))
        return create_app(settings, built[0])

    server = UvicornThread(app_for)
    return server, Backend(server.url, built[0], clock, db_url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    db_url = db_url_for(request.param, tmp_path, request)
    server, b = start_backend(db_url)
    with server:
        yield b
    b.svc.close()


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Iterator[Backend]:
    server, b = start_backend(f"sqlite:///{tmp_path / 'backend.db'}")
    with server:
        yield b
    b.svc.close()
