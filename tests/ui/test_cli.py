"""`evkiosk run` as an installer meets it: PIN hashing and bad input through the CLI's
main(argv) in this process; a headless simulated run as a process of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.evkiosk_cli import Ran, evkiosk
from ui.settings import verify_pin

EVKIOSK = [sys.executable, "-m", "kiosk.cli.main"]


def run(
    *args: str, stdin: str = "", env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env_extra or {})}
    return subprocess.run(
        [*EVKIOSK, "run", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def in_process(*args: str, stdin: str = "") -> Ran:
    """`evkiosk run ARGS` through main(argv); for the paths that end before the app starts."""
    return evkiosk("run", *args, stdin=stdin)


def test_hash_pin_prints_the_settings_line() -> None:
    done = in_process("--hash-pin", stdin="2580\n")
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith('service_pin_hash = "pbkdf2_sha256$')
    scheme, rounds, salt, digest = line.split('"')[1].split("$")
    assert scheme == "pbkdf2_sha256" and rounds.isdigit()
    # The PIN is nowhere in what is printed (the random hex of salt and digest may hold its
    # digits by chance: 0.15 % of runs hold "2580").
    assert "2580" not in line.replace(salt, "").replace(digest, "") + done.stderr
    assert verify_pin("2580", line.split('"')[1])
    assert in_process("--hash-pin", stdin="12\n").returncode == 2  # too short


def test_bad_input_exits_2_and_names_the_problem(tmp_path: Path) -> None:
    done = in_process()
    assert done.returncode == 2 and "--config FILE is required" in done.stderr
    bad = tmp_path / "station.toml"
    bad.write_text("[station]\nname = 1\n")
    done = in_process("--config", str(bad))
    assert done.returncode == 2 and "station" in done.stderr
    done = in_process("--simulate", "--size", "big")
    assert done.returncode == 2 and "--size 'big'" in done.stderr
    ui_toml = tmp_path / "ui.toml"
    ui_toml.write_text("pin = 1234\n")
    done = in_process("--simulate", "--ui-config", str(ui_toml))
    assert done.returncode == 2 and "unknown key 'pin'" in done.stderr


def test_simulated_run_headless_writes_screenshots(tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    done = run(
        "--simulate",
        "--state",
        str(tmp_path / "state"),
        "--screenshots",
        str(shots),
        "--screenshot-every",
        "0.5",
        "--quit-after",
        "3",
    )
    assert done.returncode == 0, done.stderr
    assert "on simulated hardware" in done.stderr
    assert sorted(p.name for p in shots.glob("kiosk-*.png"))[:1] == ["kiosk-0001.png"]
    assert (shots / "simulator-panel.png").exists()
    assert (tmp_path / "state" / "journal.db").exists()
    # The embedded backend is started in the state directory, not waited for (it joins after
    # the first frame), so a 3-second run may end before it has created its database.
    assert (tmp_path / "state" / "backend.log").exists()
    assert (tmp_path / "state" / "backend-station.key").stat().st_mode & 0o077 == 0


def test_a_station_that_cannot_be_built_exits_2_and_names_the_device(tmp_path: Path) -> None:
    # The idle screen comes first and the station is built after it: a config that cannot
    # work still ends the app with the same message and code as before any window.
    samples = Path(__file__).resolve().parents[2] / "assets" / "samples"
    text = (samples / "station.toml").read_text(encoding="utf-8")
    assert 'model = "zvt"' in text
    (tmp_path / "station.toml").write_text(
        text.replace('model = "zvt"', 'model = "ingenico-ipp350"'), encoding="utf-8"
    )
    (tmp_path / "tariff.json").write_text((samples / "tariff.json").read_text(encoding="utf-8"))
    done = run("--config", str(tmp_path / "station.toml"), "--state", str(tmp_path / "state"))
    assert done.returncode == 2, done.stderr
    assert "evkiosk run: [terminal] model 'ingenico-ipp350'" in done.stderr
