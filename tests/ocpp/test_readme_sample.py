"""README "Joining a CSMS": both sample sections load, and the station assembled by the app's
composition root from the try-it section boots at the test CSMS and reports its connectors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from kiosk.config import load_config
from tests.ocpp.peer import PASSWORD, Csms, require_peer
from ui.composition import assemble

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "assets" / "samples"


def readme_sections() -> list[str]:
    text = (ROOT / "README.md").read_text()
    part = text.split("## Joining a CSMS", 1)[1].split("\n## ", 1)[0]
    return [b for b in re.findall(r"```toml\n(.*?)```", part, re.S) if "[ocpp]" in b]


def station_with(tmp_path: Path, section: str) -> Path:
    shutil.copy(SAMPLES / "tariff.json", tmp_path / "tariff.json")
    (tmp_path / "csms-password").write_text("change-me-csms\n")
    (tmp_path / "csms-ca.pem").write_text("checked when the link opens\n")
    path = tmp_path / "station.toml"
    path.write_text((SAMPLES / "station.toml").read_text() + "\n" + section)
    return path


def test_both_readme_sections_load(tmp_path: Path) -> None:
    sections = readme_sections()
    assert len(sections) == 2
    for section in sections:
        config = load_config(station_with(tmp_path, section)).ocpp
        assert config is not None and config.password == "change-me-csms"


def test_the_app_joins_the_csms_with_the_try_it_section(tmp_path: Path) -> None:
    require_peer()
    csms = Csms(tmp_path / "csms.jsonl").start()
    try:
        path = station_with(tmp_path, readme_sections()[1].replace("9000", str(csms.port)))
        (tmp_path / "csms-password").write_text(PASSWORD + "\n")  # the test CSMS's
        config = load_config(path)
        assembly = assemble(config, simulate=True, state_dir=tmp_path / "state")
        assembly.start()
        try:
            csms.wait_for(lambda: len(csms.calls("StatusNotification")) >= 2)
        finally:
            assembly.stop()
    finally:
        csms.stop()
    assert csms.errors() == []
    ((_, boot),) = csms.calls("BootNotification")
    assert boot["chargingStation"]["vendorName"] == "evkiosk"
    assert {p["evseId"] for _, p in csms.calls("StatusNotification")} == {1, 2}
