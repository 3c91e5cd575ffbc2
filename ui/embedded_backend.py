"""The operator backend as a child process, for simulated-hardware mode: its own SQLite file,
the sandbox gateway, a station and API key created for this run, 127.0.0.1 only."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from kiosk.children import child_environment

SANDBOX_APPROVE = "4242424242424242"  # the sandbox gateway's approving test card


class EmbeddedBackendError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _evkiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "backend", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


class EmbeddedBackend:
    def __init__(self, state_dir: Path, station_id: str) -> None:
        self.db_url = f"sqlite:///{state_dir / 'backend.db'}"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The backend allows letters, digits and . _ : - in station ids; EVSE-style ids such
        # as "DE*EVK*S0001" are mapped for this private backend only.
        self.station_id = re.sub(r"[^A-Za-z0-9._:-]", "-", station_id)[:64]
        self.token = ""
        self._process: subprocess.Popen[str] | None = None
        self._log = (state_dir / "backend.log").open("w")

    def start(self, timeout_s: float = 120.0) -> EmbeddedBackend:
        added = _evkiosk("add-station", self.station_id, "--db", self.db_url)
        if added.returncode != 0 and "exists already" in added.stderr:
            # Known from an earlier run in this state directory: give it a fresh key.
            added = _evkiosk("rotate-key", self.station_id, "--db", self.db_url)
        if added.returncode != 0:
            raise EmbeddedBackendError(f"backend station setup failed: {added.stderr.strip()}")
        self.token = added.stdout.strip().splitlines()[-1]
        self._process = subprocess.Popen(
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
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
            env=child_environment(),
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedBackendError(f"the backend exited; see {self._log.name}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise EmbeddedBackendError(f"the backend did not answer within {timeout_s:.0f} s")

    def pay(self, link_id: str, card: str = SANDBOX_APPROVE) -> str:
        """What a phone does on the pay page: submit the sandbox test card."""
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
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._log.close()
