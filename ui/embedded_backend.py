"""The operator backend as a child process, for simulated-hardware mode: its own SQLite file,
the sandbox gateway, a station and API key for this run, 127.0.0.1 only.

Started once and not waited for: the kiosk chooses the station key itself (a private file the
backend reads when it starts, so the key is on no command line), knows its URL and key at once,
and its outbox and pay-link requests reach the backend once it has migrated and answers. One
process (`backend serve --station ID --key-file F`) migrates, registers the key and serves.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from kiosk.children import child_environment, spawn

SANDBOX_APPROVE = "4242424242424242"  # the sandbox gateway's approving test card


class EmbeddedBackendError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    """Whether `url` answers 200 within a second (the standard library's client: httpx, with
    its command-line extras, is not loaded for a probe)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (our own http URL)
            return bool(response.status == 200)
    except (OSError, ValueError):  # refused, reset, timed out, or an HTTP error status
        return False


def new_station_key() -> str:
    """A key in the backend's format (backend.auth: evk_<16 hex key id>_<secret>)."""
    return f"evk_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)
    os.replace(temporary, path)


class EmbeddedBackend:
    def __init__(self, state_dir: Path, station_id: str) -> None:
        self.db_url = f"sqlite:///{state_dir / 'backend.db'}"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The backend allows letters, digits and . _ : - in station ids; EVSE-style ids such
        # as "DE*EVK*S0001" are mapped for this private backend only.
        self.station_id = re.sub(r"[^A-Za-z0-9._:-]", "-", station_id)[:64]
        self.token = new_station_key()
        self._key_file = state_dir / "backend-station.key"
        self._process: subprocess.Popen[str] | None = None
        self._log = (state_dir / "backend.log").open("w")
        self._lock = threading.Lock()  # start() may run on another thread than stop()
        self._stopped = False
        self._stopping = threading.Event()  # ends a wait_ready() at once

    def start(self) -> EmbeddedBackend:
        """Spawn the backend and return at once (see :meth:`wait_ready`); after stop(),
        nothing."""
        with self._lock:
            if not self._stopped and self._process is None:
                self._spawn()
        return self

    def _spawn(self) -> None:
        _write_private(self._key_file, self.token)
        self._process = spawn(
            [
                sys.executable,
                "-m",
                "kiosk.cli.main",
                "backend",
                "serve",
                "--db",
                self.db_url,
                "--listen",
                f"127.0.0.1:{self.port}",
                "--station",
                self.station_id,
                "--key-file",
                str(self._key_file),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
            env=child_environment(),
        )

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Block until the backend answers /healthz (tools and tests; never the GUI thread).
        Returns early, raising EmbeddedBackendError, once stop() was called: a thread waiting
        here must not outlive the app (an import during the interpreter's shutdown, with Qt
        torn down, crashes the process)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._stopping.is_set():
                raise EmbeddedBackendError("stopped before it answered")
            if self._process is None or self._process.poll() is not None:
                raise EmbeddedBackendError(f"the backend exited; see {self._log.name}")
            if _answers(f"{self.url}/healthz"):
                return
            self._stopping.wait(0.1)
        raise EmbeddedBackendError(f"the backend did not answer within {timeout_s:.0f} s")

    def pay(self, link_id: str, card: str = SANDBOX_APPROVE) -> str:
        """What a phone does on the pay page: submit the sandbox test card."""
        import httpx  # noqa: PLC0415 (only the simulator panel's pay button needs it)

        response = httpx.post(
            f"{self.url}/pay/{link_id}",
            data={"card_number": card, "expiry": "12/34", "cvc": "123"},
            timeout=15,
        )
        if response.status_code in (200, 303) or response.is_redirect:
            status = re.search(r"data-status=\"(\w+)\"", response.text)
            return f"paid link {link_id}" + (f" ({status.group(1)})" if status else "")
        return f"the pay page answered HTTP {response.status_code}"

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._stopped = True
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._log.close()
