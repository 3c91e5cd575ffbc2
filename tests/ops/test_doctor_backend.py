"""doctor: the backend check against the real backend (uvicorn on 127.0.0.1, SQLite)."""

from __future__ import annotations

import http.server
import socket
import threading
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


def test_backend_that_accepts_but_never_answers_times_out() -> None:
    with socket.socket() as silent:  # a real listener that takes the connection and says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        check = check_backend(_config(url, "k"), timeout_s=0.3)
    assert check.outcome is Outcome.FAIL and "no answer within 0.3 s" in check.detail


class _Failing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503)
        self.end_headers()
        self.wfile.write(b"database is down")

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass


def test_backend_error_status_is_shown_with_its_body() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        check = check_backend(_config(url, "k"), timeout_s=5)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert check.outcome is Outcome.FAIL
    assert "answered 503: database is down" in check.detail
