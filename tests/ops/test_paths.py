"""Where data lives: EVKIOSK_HOME, then systemd's directories, then platformdirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.paths import config_file, data_paths


def test_evkiosk_home_wins() -> None:
    p = data_paths({"EVKIOSK_HOME": "/srv/kiosk2", "STATE_DIRECTORY": "/var/lib/evkiosk"})
    assert (p.config_file, p.data_dir, p.log_dir) == (
        Path("/srv/kiosk2/config/station.toml"),
        Path("/srv/kiosk2/data"),
        Path("/srv/kiosk2/logs"),
    )
    assert p.origin == "EVKIOSK_HOME"


def test_systemd_directories() -> None:
    env = {
        "STATE_DIRECTORY": "/var/lib/evkiosk",
        "CONFIGURATION_DIRECTORY": "/etc/evkiosk",
        "LOGS_DIRECTORY": "/var/log/evkiosk:/var/log/other",
    }
    p = data_paths(env)
    assert (p.config_dir, p.data_dir, p.log_dir, p.origin) == (
        Path("/etc/evkiosk"),
        Path("/var/lib/evkiosk"),
        Path("/var/log/evkiosk"),
        "systemd",
    )
    assert p.backup_dir == Path("/var/lib/evkiosk/backups")


def test_platform_directories_for_a_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))  # platformdirs reads os.environ
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    p = data_paths({})
    assert p.config_dir == tmp_path / "cfg" / "evkiosk"
    assert p.data_dir == tmp_path / "data" / "evkiosk"
    assert p.origin == "platformdirs"


def test_config_file_order() -> None:
    assert config_file("x.toml", {"EVKIOSK_CONFIG": "/e.toml"}) == Path("x.toml")
    assert config_file(None, {"EVKIOSK_CONFIG": "/e.toml"}) == Path("/e.toml")
    assert config_file(None, {"EVKIOSK_HOME": "/h"}) == Path("/h/config/station.toml")
