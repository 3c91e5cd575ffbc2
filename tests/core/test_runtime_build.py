"""Assembling the runtime from the sample config: offers from the tariff file, owner threads
shared per configured bus, the journal where the config says."""

from __future__ import annotations

import shutil
from pathlib import Path

from doubles.builders import T0
from doubles.devices import FileBackend, FileCardTerminal, Plant, PlantController, PlantMeter

from kiosk.config import load_config
from kiosk.runtime.build import build_runtime, station_devices
from kiosk.runtime.clock import FakeClock
from kiosk.snapshot import ChooseConnector, ConfirmPrice, PayByCard, Phase

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"


def test_sample_station_runs_a_card_session(tmp_path: Path) -> None:
    shutil.copy(SAMPLES / "station.toml", tmp_path / "station.toml")
    shutil.copy(SAMPLES / "tariff.json", tmp_path / "tariff.json")
    config = load_config(tmp_path / "station.toml")
    clock = FakeClock(T0)
    plants = {c.id: Plant(tmp_path / f"plant-{c.id}.json", clock.now) for c in config.connectors}
    devices = station_devices(
        config,
        FileCardTerminal(tmp_path / "bank.json"),
        FileBackend(tmp_path / "backend.json", clock.now),
        {cid: PlantMeter(p) for cid, p in plants.items()},
        {cid: PlantController(p) for cid, p in plants.items()},
    )
    # Both meters are on RS485 bus "rs485-1": one owner; each controller has its own.
    assert devices.owner_name("meter:1") == devices.owner_name("meter:2") == "bus:rs485-1"
    assert devices.owner_name("controller:1") != devices.owner_name("controller:2")
    rt = build_runtime(config, devices, clock)
    try:
        rt.start()
        for _ in range(3):
            clock.advance(1)
            assert rt.wait_idle()
        snap = rt.snapshot
        assert snap is not None and snap.station_name == "Marktplatz Süd"
        assert [t.label for t in snap.connectors] == ["Links", "Rechts"]
        assert all(t.price is not None and t.price.lines for t in snap.connectors)
        rt.send(ChooseConnector("2"))
        assert rt.wait_idle()
        focus = rt.snapshot.focus if rt.snapshot else None
        assert focus is not None and focus.hold is not None
        assert focus.hold.minor == 5000  # the 2.3 tariff's preauthorize_amount wins
        assert focus.price_lines
        rt.send(ConfirmPrice(focus.session_id))
        rt.send(PayByCard(focus.session_id))
        assert rt.wait_idle()
        assert rt.snapshot is not None and rt.snapshot.phase is Phase.WAITING_FOR_PLUG
        assert (tmp_path / "journal.db").exists()
    finally:
        rt.stop()
        rt.journal.close()
