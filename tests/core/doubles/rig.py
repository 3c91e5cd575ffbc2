"""A whole station on doubles: real journal file, file-backed devices, the real tariff engine,
the real runtime threads, and a hand-driven clock."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from doubles.builders import T0
from doubles.devices import FileBackend, FileCardTerminal, Plant, PlantController, PlantMeter
from kiosk.journal.store import Journal
from kiosk.runtime.clock import FakeClock
from kiosk.runtime.core import Runtime
from kiosk.runtime.costs import TariffCostModel
from kiosk.runtime.devices import StationDevices
from kiosk.runtime.offers import offer_for
from kiosk.session.model import ConnectorConf, Policy, Station
from kiosk.snapshot import Intent, StationSnapshot
from kiosk.tariff import LiveCostCalculator, parse_tariff

TZ = ZoneInfo("Europe/Berlin")


def energy_tariff(price: str = "0.50", tariff_id: str = "AC1") -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": "EVK",
        "id": tariff_id,
        "currency": "EUR",
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": price, "vat": 19, "step_size": 1}]}
        ],
        "last_updated": "2026-01-01T00:00:00Z",
    }


def tariff_cost(tariff_json: str, readings: list[Any]) -> int:
    """The tariff engine's cost of recorded readings, computed afresh (readings[0] = start)."""
    tariff = parse_tariff(json.loads(tariff_json, parse_float=Decimal))
    start = readings[0].reading
    calc = LiveCostCalculator(tariff, TZ, start.measured_at, start.energy_import_wh)
    total = 0
    for stored in readings[1:]:
        r = stored.reading
        total = calc.add_reading(r.measured_at, r.energy_import_wh, power_w=r.power_w).total_minor()
    return total


class Rig:
    def __init__(
        self,
        tmp: Path,
        *,
        connectors: tuple[str, ...] = ("1",),
        tariff: dict[str, Any] | None = None,
        hold_minor: int = 5000,
        policy: Policy | None = None,
        power_w: float = 11000.0,
        clock: FakeClock | None = None,
    ) -> None:
        self.tmp = tmp
        self.clock = clock or FakeClock(T0)
        self.terminal = FileCardTerminal(tmp / "bank.json")
        self.plants = {
            cid: Plant(tmp / f"plant-{cid}.json", self.clock.now, power_w) for cid in connectors
        }
        self.backend = FileBackend(tmp / "backend.json", self.clock.now)
        self.journal = Journal.open(tmp / "journal.db")
        parsed = parse_tariff(
            json.loads(json.dumps(tariff or energy_tariff()), parse_float=Decimal)
        )
        offers = {cid: offer_for(parsed, hold_minor) for cid in connectors}
        station = Station(
            policy=policy or Policy(),
            connectors=tuple(ConnectorConf(cid, f"C{cid}", "Type 2", "22") for cid in connectors),
        )
        ids = itertools.count(1)
        devices = StationDevices(
            terminal=self.terminal,
            backend=self.backend,
            meters={cid: PlantMeter(p) for cid, p in self.plants.items()},
            controllers={cid: PlantController(p) for cid, p in self.plants.items()},
            # meter and controller of a connector share one RS485 bus, so one owner thread
            buses={
                f"{kind}:{cid}": f"bus-{cid}"
                for cid in connectors
                for kind in ("meter", "controller")
            },
        )
        self.snapshots: list[StationSnapshot] = []
        self.rt = Runtime(
            station=station,
            offers=offers,
            journal=self.journal,
            devices=devices,
            clock=self.clock,
            costs=TariffCostModel(TZ),
            name="Test station",
            link_wait_s=0,
            new_id=lambda: f"S{next(ids)}",
            # Records stay in the outbox: the crash drills count the machine's own commits
            # (the sender is tested in test_outbox.py and tests/e2e).
            deliver_reports=False,
            zone=TZ,
        )
        self.rt.subscribe(self.snapshots.append)
        # One order of events per instant in every run: the crash drills count commits.
        self.clock.settle_with(lambda: self.rt.wait_idle(checks=1))

    def start(self) -> Rig:
        self.rt.start()
        self.idle()
        return self

    def idle(self) -> None:
        assert self.rt.wait_idle(), "runtime did not settle"

    def advance(self, seconds: int, step: int = 1) -> None:
        for _ in range(0, seconds, step):
            self.clock.advance(step)
            self.idle()

    def send(self, intent: Intent) -> None:
        self.rt.send(intent)
        self.idle()

    @property
    def snap(self) -> StationSnapshot:
        snapshot = self.rt.snapshot
        assert snapshot is not None
        return snapshot

    def stop(self) -> None:
        self.rt.stop()
        self.journal.close()
