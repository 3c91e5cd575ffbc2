"""Fixtures for the end-to-end tests: one real backend process per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.station import BackendAccess
from tests.e2e.rig import BackendProcess


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    process = BackendProcess(tmp_path_factory.mktemp("backend")).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def access(backend: BackendProcess) -> BackendAccess:
    return BackendAccess(backend.url, backend.token)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path / "kiosk"
