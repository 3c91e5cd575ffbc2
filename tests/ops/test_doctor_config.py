"""doctor: the config check, and the whole report's exit code and JSON form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.doctor import DoctorOptions, Outcome, run_doctor
from kiosk.cli.main import main
from tests.ops.stations import station_toml


def _options(config: Path) -> DoctorOptions:
    return DoctorOptions(config=config, timedatectl=None, min_free_mb=0)


def test_missing_config_fails_and_says_how_to_make_one(tmp_path: Path) -> None:
    checks = run_doctor(_options(tmp_path / "nope.toml"))
    config = checks[0]
    assert config.outcome is Outcome.FAIL
    assert "station.toml" in config.fix
    # Nothing device-related is tried without a config.
    assert [c.area for c in checks if c.outcome is not Outcome.SKIP] == ["config", "clock"]


def test_bad_config_names_key_and_line(tmp_path: Path) -> None:
    path = station_toml(tmp_path, meter='hardware = "maybe"')
    checks = run_doctor(_options(path))
    bad = [c for c in checks if c.area == "config"]
    assert [c.outcome for c in bad] == [Outcome.FAIL]
    line = path.read_text().splitlines().index('hardware = "maybe"') + 1
    assert bad[0].subject.endswith(f":{line}")
    assert "meters.m1.hardware" in bad[0].detail
    assert f"line {line}" in bad[0].fix


def test_simulated_station_passes_and_devices_are_skipped(station: Path) -> None:
    checks = run_doctor(_options(station))
    by_area = {c.area: c.outcome for c in checks}
    assert by_area["config"] is Outcome.PASS
    assert by_area["meter"] is by_area["terminal"] is Outcome.SKIP
    assert by_area["journal"] is Outcome.WARN  # not created yet: the kiosk makes it
    assert not any(c.outcome is Outcome.FAIL for c in checks)


def test_cli_exit_codes_and_json(
    tmp_path: Path, station: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--config", str(station), "--min-free-mb", "0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert {c["area"] for c in report["checks"]} >= {"config", "clock", "disk", "journal"}
    (tmp_path / "b").mkdir()
    broken = station_toml(tmp_path / "b", meter="hardware = 1")
    assert main(["doctor", "--config", str(broken)]) == 2  # bad input, as the README says
    out = capsys.readouterr().out
    assert "[FAIL] config" in out and "->" in out
    assert main(["doctor", "--config", str(station), "--user", "no-such-user-xyz"]) == 2


def test_the_installed_command_exits_1_on_a_failure(tmp_path: Path) -> None:
    import subprocess
    import sys

    evkiosk = Path(sys.executable).parent / "evkiosk"
    done = subprocess.run(
        [str(evkiosk), "doctor", "--config", str(tmp_path / "none.toml"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["ok"] is False and report["checks"][0]["outcome"] == "fail"
