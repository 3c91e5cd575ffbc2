"""The whole money path on this machine: a real backend process (`evkiosk backend serve`,
SQLite, sandbox gateway) on 127.0.0.1, and a headless kiosk (drivers.station) with the ZVT
terminal simulator over TCP and a pymodbus meter and controller per connector, driven by one
hand-moved clock."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from drivers.station import BackendAccess, HeadlessStation, assemble_station
from kiosk.config import load_config
from kiosk.outbox.backoff import Backoff
from kiosk.runtime.clock import FakeClock
from kiosk.session.names import Phase
from kiosk.snapshot import (
    BackToStart,
    ChooseConnector,
    ConfirmPrice,
    PayByCard,
    StationSnapshot,
    StopCharging,
)
from tests.evkiosk_cli import Ran, evkiosk

EVKIOSK = [sys.executable, "-m", "kiosk.cli.main", "backend"]
STATION_ID = "E2E-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tariff(price: str = "0.50", parking_per_hour: str | None = None) -> dict[str, Any]:
    components: list[dict[str, Any]] = [
        {"type": "ENERGY", "price": price, "vat": 19, "step_size": 1}
    ]
    elements: list[dict[str, Any]] = [{"price_components": components}]
    if parking_per_hour is not None:
        elements.append(
            {
                "price_components": [
                    {"type": "PARKING_TIME", "price": parking_per_hour, "vat": 19, "step_size": 60}
                ]
            }
        )
    return {
        "country_code": "DE",
        "party_id": "EVK",
        "id": "E2E",
        "currency": "EUR",
        "type": "AD_HOC_PAYMENT",
        "tax_included": "YES",
        "elements": elements,
        "last_updated": "2026-01-01T00:00:00Z",
    }


BACKEND_STATION_TOML = """
[station]
name = "E2E Platz"
locales = ["en"]
timezone = "Europe/Berlin"
journal = "journal.db"

[payment]
hold_minor = {hold}
cap_margin_minor = 100
cap_margin_percent = 5

[timeouts]
price_confirm_s = 90
card_wait_s = 120
plug_in_s = 180
plug_in_extension_s = 120
start_s = 120
meter_stale_s = 30
stopping_s = 20
receipt_s = 60

[terminal]
hardware = "simulated"
model = "zvt"
port = "/dev/null"

[backend]
url = "http://127.0.0.1:9"
station_id = "{station}"
token = "set-by-the-test"
hardware = "simulated"
timeout_s = {timeout}
receipt_secret = "e2e-receipt-secret-0123456789"
"""

# A simulated meter and controller (pymodbus), and the one connector that uses them.
SIMULATED_DEVICES_TOML = """
[meters.left]
hardware = "simulated"
model = "sdm630"
port = "/dev/null"

[controllers.left]
hardware = "simulated"
model = "phoenix-ev-eth"
port = "/dev/null"
"""

CONNECTOR_TOML = """
[[connector]]
id = "1"
label = "Links"
type = "Type 2"
max_kw = 11
tariff = "tariff.json"
meter = "left"
controller = "left"
"""

STATION_TOML = BACKEND_STATION_TOML + SIMULATED_DEVICES_TOML + CONNECTOR_TOML


class BackendProcess:
    """`evkiosk backend serve` as a child process with its own SQLite file."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.db = f"sqlite:///{workdir / 'backend.db'}"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "backend.log"
        self.proc: subprocess.Popen[bytes] | None = None
        added = self.cli("add-station", STATION_ID)
        self.token = added.stdout.strip().splitlines()[-1]

    def cli(self, *args: str) -> Ran:
        """`evkiosk backend ARGS --db DB` through the CLI's main(argv), in this process (the
        server itself is a process of its own, see start)."""
        done = evkiosk("backend", *args, "--db", self.db)
        assert done.returncode == 0, done.stderr
        return done

    def start(self) -> BackendProcess:
        # The free port was only free when it was picked: another process may bind it first.
        for _ in range(3):
            try:
                return self._start_once()
            except AssertionError as exc:
                if "address already in use" not in str(exc):
                    raise
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
        return self._start_once()

    def _start_once(self) -> BackendProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*EVKIOSK, "serve", "--db", self.db, "--listen", f"127.0.0.1:{self.port}"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        # Generous: on a loaded machine importing the backend alone can take half a minute.
        deadline = time.monotonic() + 180
        # One client for all the polls: each httpx.get() builds a TLS context (~70 ms CPU).
        with httpx.Client(timeout=5) as poll:
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(f"backend exited: {self.log_path.read_text()}")
                try:
                    if poll.get(f"{self.url}/healthz").status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()  # never leave a child running behind a failed test
                    raise AssertionError(f"backend did not start: {self.log_path.read_text()}")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        self.proc = None

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )

    def sessions(self) -> list[dict[str, Any]]:
        """Every session the backend stored, straight from its database."""
        import sqlite3

        path = self.db.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM sessions ORDER BY pk").fetchall()
        return [dict(r) for r in rows]

    def link_statuses(self) -> list[str]:
        import sqlite3

        with sqlite3.connect(self.db.removeprefix("sqlite:///")) as conn:
            return [r[0] for r in conn.execute("SELECT status FROM payment_links ORDER BY 1")]

    def reconciliation(self, day: datetime) -> dict[str, Any]:
        with self.api() as api:
            response = api.get(
                "/reconciliation",
                params={
                    "from": (day - timedelta(days=1)).date().isoformat(),
                    "to": (day + timedelta(days=2)).date().isoformat(),
                },
            )
        assert response.status_code == 200, response.text
        return dict(response.json())


@dataclass
class Kiosk:
    station: HeadlessStation
    clock: FakeClock
    snapshots: list[StationSnapshot] = field(default_factory=list)

    @property
    def snap(self) -> StationSnapshot:
        snap = self.station.runtime.snapshot
        assert snap is not None
        return snap

    def idle(self) -> None:
        assert self.station.runtime.wait_idle(60), "the runtime did not settle"

    def advance(self, seconds: float, step: float = 1.0) -> None:
        done = 0.0
        while done < seconds:
            self.clock.advance(step)
            done += step
            self.idle()

    def send(self, intent: Any) -> None:
        self.station.runtime.send(intent)
        self.idle()

    def focus_id(self) -> str:
        assert self.snap.focus is not None
        return self.snap.focus.session_id

    def charge_by_card(self, seconds: int = 600, connector: str = "1") -> str:
        """Plug in, pay by card, charge `seconds`, stop, leave the receipt, unplug."""
        sim = self.station.sims[connector]
        sim.plug_in(soc=0.3)
        self.advance(2)
        self.send(ChooseConnector(connector))
        sid = self.focus_id()
        self.send(ConfirmPrice(sid))
        self.send(PayByCard(sid))
        self.advance(seconds, step=10)
        assert self.snap.focus is not None and self.snap.focus.phase is Phase.CHARGING
        self.send(StopCharging(sid))
        self.advance(5)
        assert self.snap.focus is not None and self.snap.focus.phase is Phase.RECEIPT
        self.send(BackToStart(sid))
        sim.unplug()
        self.advance(2)
        return sid


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@contextmanager
def kiosk(
    workdir: Path,
    backend: BackendAccess,
    *,
    hold: int = 2000,
    timeout_s: float = 10.0,
    tariff_obj: dict[str, Any] | None = None,
    start: datetime | None = None,
    clock: FakeClock | None = None,
    before_start: Any = None,
    extra_toml: str = "",
    **options: Any,
) -> Iterator[Kiosk]:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "tariff.json").write_text(json.dumps(tariff_obj or tariff()))
    toml = STATION_TOML.format(hold=hold, station=STATION_ID, timeout=timeout_s)
    (workdir / "station.toml").write_text(toml + extra_toml)
    config = load_config(workdir / "station.toml")
    clock = clock or FakeClock(start or now_utc())
    options.setdefault("outbox_backoff", Backoff(timedelta(seconds=5), timedelta(minutes=30)))
    station = assemble_station(
        config, simulate=True, state_dir=workdir / "state", clock=clock, backend=backend, **options
    )
    k = Kiosk(station, clock)
    station.runtime.subscribe(k.snapshots.append)
    if before_start is not None:
        before_start(k)
    station.start()
    k.idle()
    try:
        yield k
    finally:
        station.stop()
