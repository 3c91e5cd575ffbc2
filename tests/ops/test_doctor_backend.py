"""doctor: the backend check against the real backend (uvicorn on 127.0.0.1, SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.stations import add_station
from drivers.doctor import Outcome
from drivers.doctor.backend import check_backend
from kiosk.config import BackendConfig
from tests.backend.conftest import Backend, start_backend
from tests.backend.servers import free_port

STATION = "KIOSK-0001"


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    server, b = start_backend(f"sqlite:///{tmp_path / 'backend.db'}")
    with server:
        yield b
    b.svc.close()


def _config(url: str, token: str) -> BackendConfig:
    return BackendConfig(url, STATION, token, "real", timeout_s=5)


def test_accepted_key_passes(backend: Backend) -> None:
    key = add_station(backend.svc.db, backend.svc.settings, STATION)
    check = check_backend(_config(backend.url, key), timeout_s=5)
    assert check.outcome is Outcome.PASS, check
    assert STATION in check.detail


def test_wrong_key_is_a_401_with_what_to_do(backend: Backend) -> None:
    add_station(backend.svc.db, backend.svc.settings, STATION)
    check = check_backend(_config(backend.url, "not-the-key"), timeout_s=5)
    assert check.outcome is Outcome.FAIL
    assert "401" in check.detail and "add-station" in check.fix and "token" in check.fix
    assert "not-the-key" not in check.detail + check.fix  # the key is not echoed


def test_wrong_base_url_is_a_404(backend: Backend) -> None:
    key = add_station(backend.svc.db, backend.svc.settings, STATION)
    check = check_backend(_config(backend.url + "/api/v1", key), timeout_s=5)
    assert check.outcome is Outcome.FAIL and "404" in check.detail


def test_unreachable_backend() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    check = check_backend(_config(url, "k"), timeout_s=2)
    assert check.outcome is Outcome.FAIL
    assert "cannot connect" in check.detail and "[backend] url" in check.fix


def test_simulated_backend_is_skipped() -> None:
    config = BackendConfig("http://127.0.0.1:1", STATION, "k", "simulated")
    assert check_backend(config, timeout_s=1).outcome is Outcome.SKIP
