"""The [ocpp] section: off unless written down, every mistake named with its key and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.config import ConfigError, load_config

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"


@pytest.fixture
def station_dir(tmp_path: Path) -> Path:
    shutil.copy(SAMPLES / "station.toml", tmp_path / "station.toml")
    shutil.copy(SAMPLES / "tariff.json", tmp_path / "tariff.json")
    (tmp_path / "csms-password").write_text("s3cret-basic-auth\n")
    return tmp_path


def with_section(station_dir: Path, body: str) -> Path:
    path = station_dir / "station.toml"
    path.write_text(path.read_text() + "\n[ocpp]\n" + body)
    return path


def problems(path: Path) -> list[tuple[str, int | None, str]]:
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return [(p.key, p.line, p.message) for p in err.value.problems]


def line_of(path: Path, needle: str) -> int:
    """The last line with `needle`: the [ocpp] section is the file's last."""
    return [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line][-1]


GOOD = """url = "wss://csms.example.com/ocpp/"
identity = "EVK-0001"
password_file = "csms-password"
versions = ["2.1"]
"""


def test_without_the_section_the_station_stands_alone(station_dir: Path) -> None:
    assert load_config(station_dir / "station.toml").ocpp is None


def test_a_complete_section_loads_with_the_password_from_its_file(station_dir: Path) -> None:
    config = load_config(with_section(station_dir, GOOD)).ocpp
    assert config is not None
    assert config.endpoint == "wss://csms.example.com/ocpp/EVK-0001"
    assert config.password == "s3cret-basic-auth"
    assert config.versions == ("2.1",) and config.meter_interval_s == 60
    assert config.evse_ids == {"1": 1, "2": 2}  # connectors in file order
    assert "s3cret" not in repr(config)


def test_enabled_false_keeps_the_settings_and_the_link_off(station_dir: Path) -> None:
    assert load_config(with_section(station_dir, GOOD + "enabled = false\n")).ocpp is None


def test_the_password_can_come_from_the_environment(
    station_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = GOOD.replace('password_file = "csms-password"', 'password_env = "EVK_CSMS_PW"')
    path = with_section(station_dir, body)
    monkeypatch.delenv("EVK_CSMS_PW", raising=False)
    assert problems(path) == [
        (
            "ocpp.password_env",
            line_of(path, "password_env"),
            "environment variable EVK_CSMS_PW is not set",
        )
    ]
    monkeypatch.setenv("EVK_CSMS_PW", "from-the-env")
    config = load_config(path).ocpp
    assert config is not None and config.password == "from-the-env"


@pytest.mark.parametrize(
    ("old", "new", "key", "says"),
    [
        ('url = "wss://csms.example.com/ocpp/"', 'url = "https://csms"', "ocpp.url", "ws://"),
        ('identity = "EVK-0001"', 'identity = "EVK/0001"', "ocpp.identity", "48"),
        ('versions = ["2.1"]', 'versions = ["3.0"]', "ocpp.versions", "'3.0' is not one of"),
        ('versions = ["2.1"]', 'versions = ["2.1", "2.1"]', "ocpp.versions", "twice"),
        (
            'password_file = "csms-password"',
            'password_file = "nope"',
            "ocpp.password_file",
            "cannot read",
        ),
        ('identity = "EVK-0001"', 'identity = "EVK-0001"\nhold = 1', "ocpp.hold", "unknown key"),
    ],
)
def test_each_mistake_names_its_key_and_line(
    station_dir: Path, old: str, new: str, key: str, says: str
) -> None:
    path = with_section(station_dir, GOOD.replace(old, new))
    ((got_key, line, message),) = problems(path)
    assert got_key == key and says in message
    assert line == line_of(path, key.split(".")[1] + " =")


def test_a_ca_bundle_needs_tls_and_an_existing_file(station_dir: Path) -> None:
    body = GOOD.replace("wss://", "ws://") + 'ca_bundle = "ca.pem"\n'
    (station_dir / "ca.pem").write_text("not checked here")
    path = with_section(station_dir, body)
    assert problems(path) == [
        ("ocpp.ca_bundle", line_of(path, "ca_bundle"), "is only used with a wss:// url")
    ]


def test_password_file_and_env_together_are_refused(station_dir: Path) -> None:
    path = with_section(station_dir, GOOD + 'password_env = "X"\n')
    ((key, _, message),) = problems(path)
    assert key == "ocpp.password_env" and "not both" in message


def test_versions_default_to_all_three_and_take_the_subprotocol_names(station_dir: Path) -> None:
    without = GOOD.replace('versions = ["2.1"]\n', "")
    config = load_config(with_section(station_dir, without)).ocpp
    assert config is not None and config.versions == ("2.1", "2.0.1", "1.6")
    station_dir.joinpath("station.toml").write_text((SAMPLES / "station.toml").read_text())
    named = GOOD.replace('["2.1"]', '["ocpp1.6", "ocpp2.0.1"]')
    config = load_config(with_section(station_dir, named)).ocpp
    assert config is not None and config.versions == ("1.6", "2.0.1")
