"""The station TOML: the sample loads; every mistake names its key and its line."""

from __future__ import annotations

import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.config import ConfigError, load_config

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"


@pytest.fixture
def station_dir(tmp_path: Path) -> Path:
    shutil.copy(SAMPLES / "station.toml", tmp_path / "station.toml")
    shutil.copy(SAMPLES / "tariff.json", tmp_path / "tariff.json")
    return tmp_path


def edit(station_dir: Path, old: str, new: str) -> Path:
    path = station_dir / "station.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    found = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    return found[occurrence - 1]


def problems(path: Path) -> list[tuple[str, int | None, str]]:
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return [(p.key, p.line, p.message) for p in err.value.problems]


def test_the_sample_config_loads(station_dir: Path) -> None:
    config = load_config(station_dir / "station.toml")
    assert config.name == "Marktplatz Süd"
    assert config.locales == ("de", "en")
    assert [c.id for c in config.connectors] == ["1", "2"]
    assert config.connector("2").hold_minor == 3000
    assert config.connector("1").hold_minor == 5000
    assert config.connector("1").max_kw == Decimal(22)
    assert config.policy.plug_timeout == timedelta(seconds=180)
    assert config.terminal is not None and config.terminal.hardware == "simulated"
    assert config.terminal.settings["port"] == "/dev/ttyUSB0"
    assert config.meters["left"].bus == "rs485-1"
    assert config.meters["left"].settings == {"port": "/dev/ttyUSB1", "unit": 1}
    assert config.backend is not None and "change-me" not in repr(config.backend)
    assert config.journal_path == station_dir / "journal.db"


def test_wrong_value_names_key_and_line(station_dir: Path) -> None:
    path = edit(station_dir, "max_kw = 11", "max_kw = -11")
    assert problems(path) == [
        (
            "connector[1].max_kw",
            line_of(path, "max_kw = -11"),
            "must be between 0 and 1000 kW, got -11",
        )
    ]


def test_hardware_must_be_real_or_simulated(station_dir: Path) -> None:
    path = edit(
        station_dir,
        '[meters.right]\nhardware = "simulated"',
        '[meters.right]\nhardware = "virtual"',
    )
    ((key, line, message),) = problems(path)
    assert key == "meters.right.hardware"
    assert line == line_of(path, 'hardware = "virtual"')
    assert "real" in message and "simulated" in message and "'virtual'" in message


def test_missing_key_points_at_its_table(station_dir: Path) -> None:
    path = edit(station_dir, 'type = "Type 2"\nmax_kw = 22', "max_kw = 22")
    ((key, line, message),) = problems(path)
    assert key == "connector[0]"
    assert line == line_of(path, "[[connector]]", 1)
    assert "'type'" in message


def test_unknown_key_and_dangling_reference(station_dir: Path) -> None:
    path = edit(station_dir, 'meter = "right"', 'meter = "rihgt"\ncolour = "blue"')
    found = problems(path)
    assert (
        "connector[1].meter",
        line_of(path, 'meter = "rihgt"'),
        "no [meters.rihgt] table is configured",
    ) in found
    assert any(k == "connector[1].colour" and ln == line_of(path, "colour") for k, ln, _ in found)


def test_all_problems_are_reported_together(station_dir: Path) -> None:
    edit(station_dir, "card_wait_s = 120", "card_wait_s = 0")
    edit(station_dir, 'timezone = "Europe/Berlin"', 'timezone = "Europe/Atlantis"')
    path = edit(station_dir, 'url = "http://127.0.0.1:8080"', 'url = "ftp://x"')
    keys = {k for k, _, _ in problems(path)}
    assert keys == {"timeouts.card_wait_s", "station.timezone", "backend.url"}
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert f"{path}:{line_of(path, 'card_wait_s')}: timeouts.card_wait_s:" in text


def test_duplicate_connector_ids(station_dir: Path) -> None:
    path = edit(station_dir, 'id = "2"', 'id = "1"')
    assert (
        "connector[1].id",
        line_of(path, 'id = "1"', 2),
        "connector id '1' is used twice",
    ) in problems(path)


def test_broken_tariff_file_is_named(station_dir: Path) -> None:
    (station_dir / "tariff.json").write_text('{"id": "T", "currency": "EUR", "elements": []}')
    path = station_dir / "station.toml"
    found = problems(path)
    assert {k for k, _, _ in found} == {"connector[0].tariff", "connector[1].tariff"}
    assert all("tariff.json" in m for _, _, m in found)


def test_missing_tariff_file(station_dir: Path) -> None:
    path = edit(station_dir, 'tariff = "tariff.json"', 'tariff = "nope.json"')
    ((key, line, message),) = problems(path)
    assert key == "connector[0].tariff" and line == line_of(path, "nope.json")
    assert "does not exist" in message


def test_hold_too_small_for_the_cap_margin(station_dir: Path) -> None:
    path = edit(station_dir, "hold_minor = 5000", "hold_minor = 50")
    ((key, _, message),) = problems(path)
    assert key == "payment.hold_minor" and "cost-cap margin" in message


def test_syntax_error_has_the_line_from_tomllib(station_dir: Path) -> None:
    path = edit(station_dir, 'name = "Marktplatz Süd"', 'name = "Marktplatz Süd')
    ((key, line, _),) = problems(path)
    assert key == "(syntax)" and line == line_of(path, "name = ")


def test_unreadable_file(tmp_path: Path) -> None:
    ((key, line, message),) = problems(tmp_path / "absent.toml")
    assert key == "(file)" and line is None and "cannot read" in message


def test_bad_file_is_not_changed(station_dir: Path) -> None:
    path = edit(station_dir, "max_kw = 22", 'max_kw = "lots"')
    before = path.read_bytes()
    problems(path)
    assert path.read_bytes() == before


def test_key_lines_skip_multiline_strings_and_arrays() -> None:
    from kiosk.config.lines import key_lines

    text = "\n".join(
        [
            "[station]",  # 1
            'name = """Multi',  # 2
            "fake = 1",  # 3  (inside the string)
            '[not.a.table]"""',  # 4
            "locales = [",  # 5
            '  "de",  # [comment',  # 6
            "]",  # 7
            "journal = 'j.db'",  # 8
            "[[connector]]",  # 9
            "id = '1'",  # 10
            "[[connector]]",  # 11
            "id = '2'",  # 12
            "settings = { port = 'x', unit_id = 3 }",  # 13
        ]
    )
    lines = key_lines(text)
    assert lines[("station", "name")] == 2
    assert ("station", "fake") not in lines and ("not", "a", "table") not in lines
    assert lines[("station", "locales")] == 5
    assert lines[("station", "journal")] == 8
    assert lines[("connector", 1, "id")] == 12
    assert lines[("connector", 1, "settings", "unit_id")] == 13


VALUES = st.one_of(
    st.integers(-5, 10**6).map(str),
    st.sampled_from(['"x"', '""', "true", "1.5", "-0.0", "[]", "{}", '["de"]', "{ a = 1 }", "nan"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_any_wrong_value_is_a_config_error_never_a_crash(
    station_dir: Path, data: st.DataObject
) -> None:
    path = station_dir / "station.toml"
    original = (SAMPLES / "station.toml").read_text()
    lines = original.splitlines()
    keys = [i for i, line in enumerate(lines) if " = " in line and not line.startswith("#")]
    index = data.draw(st.sampled_from(keys))
    key = lines[index].split(" = ")[0]
    lines[index] = f"{key} = {data.draw(VALUES)}"
    path.write_text("\n".join(lines) + "\n")
    try:
        load_config(path)
    except ConfigError as err:
        for problem in err.problems:
            assert problem.key and problem.message
            if problem.key != "(syntax)":
                assert problem.line is not None, problem


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        # Found by fuzzing: each raised OverflowError, ValueError or OSError instead.
        ("price_confirm_s = 90", "price_confirm_s = inf", "timeouts.price_confirm_s", "at most"),
        ("price_confirm_s = 90", "price_confirm_s = 1e300", "timeouts.price_confirm_s", "at most"),
        ("price_confirm_s = 90", "price_confirm_s = nan", "timeouts.price_confirm_s", "above 0"),
        ("hold_minor = 5000", "hold_minor = 10000000000", "payment.hold_minor", "1 to 1_000"),
        ('journal = "journal.db"', 'journal = "a\\u0000b"', "station.journal", "NUL byte"),
        ('journal = "journal.db"', f'journal = "{"j" * 300}"', "station.journal", "too long"),
        ('tariff = "tariff.json"', 'tariff = "t\\u0000"', "connector[0].tariff", "NUL byte"),
        ('tariff = "tariff.json"', f'tariff = "{"t" * 300}"', "connector[0].tariff", "too long"),
        ('tariff = "tariff.json"', f'tariff = "{"t/" * 2100}"', "connector[0].tariff", "too long"),
    ],
)
def test_out_of_range_values_and_unusable_paths_name_the_key(
    station_dir: Path, old: str, new: str, key: str, message: str
) -> None:
    path = edit(station_dir, old, new)
    found = problems(path)
    assert [(k, line) for k, line, _ in found] == [(key, line_of(path, new[:12]))]
    assert message in found[0][2]
    assert len(found[0][2]) < 200  # a 4,000-character value is shortened in the message


def test_a_config_path_with_a_nul_byte_or_too_long_is_a_config_error(tmp_path: Path) -> None:
    for path in (tmp_path / "st\0ation.toml", tmp_path / ("s" * 300 + ".toml")):
        assert problems(path)[0][0] == "(file)"


def test_a_connector_label_may_be_given_per_language(station_dir: Path) -> None:
    config = load_config(station_dir / "station.toml")
    left = config.connector("1")
    assert left.label == "Links"  # the first locale's: the station speaks German first
    assert left.labels == {"de": "Links", "en": "Left", "fr": "Gauche"}
    path = edit(
        station_dir, 'label = { de = "Rechts", en = "Right", fr = "Droite" }', 'label = "R"'
    )
    plain = load_config(path).connector("2")
    assert (plain.label, plain.labels) == ("R", {})


def test_a_label_per_language_names_a_bad_language_code(station_dir: Path) -> None:
    path = edit(station_dir, 'en = "Left"', 'English = "Left"')
    ((key, line, message),) = problems(path)
    assert key == "connector[0].label" and line == line_of(path, "English")
    assert "'English' is not a language code" in message
