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


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        # Each made doctor and status print a traceback (OverflowError, ValueError, OSError).
        (("[terminal]", "[timeouts]\nprice_confirm_s = inf\n\n[terminal]"), "price_confirm_s"),
        (("[terminal]", "[timeouts]\nprice_confirm_s = 1e300\n\n[terminal]"), "price_confirm_s"),
        (('journal = "journal.db"', 'journal = "j\\u0000.db"'), "station.journal"),
        (('journal = "journal.db"', f'journal = "{"j" * 300}.db"'), "station.journal"),
        (('tariff = "tariff.json"', f'tariff = "{"t" * 300}.json"'), "connector[0].tariff"),
    ],
)
def test_unusable_values_are_reported_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: tuple[str, str], key: str
) -> None:
    path = station_toml(tmp_path)
    path.write_text(path.read_text().replace(*edit, 1))
    assert main(["doctor", "--config", str(path), "--min-free-mb", "0"]) == 2  # a broken config
    out = capsys.readouterr().out
    assert "[FAIL] config" in out and key in out
    assert main(["status", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evkiosk status:") and key in err


@pytest.mark.parametrize(
    ("meter", "expected"),
    [
        # A NUL byte in a serial port's name raised ValueError in the port check, and an
        # infinite Modbus timeout OverflowError inside pymodbus: both printed a traceback.
        ('port = "/dev/tty\\u0000USB0"', "[FAIL] port"),
        (
            'port = "tcp://127.0.0.1:1"\ntimeout_s = inf',
            "meters.m1.timeout_s: must be a positive number up to 3600",
        ),
    ],
)
def test_unusable_device_settings_fail_their_check_not_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], meter: str, expected: str
) -> None:
    path = station_toml(tmp_path, meter=f'hardware = "real"\nmodel = "sdm630"\n{meter}')
    assert main(["doctor", "--config", str(path), "--min-free-mb", "0", "--timeout", "1"]) == 1
    assert expected in capsys.readouterr().out
