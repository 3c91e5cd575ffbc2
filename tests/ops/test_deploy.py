"""deploy/: the systemd units parse and say what they must; install.sh's upgrade plan backs
the journal up before anything changes; an old journal survives backup, migration, restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from doubles import paths

from kiosk.cli.main import main
from kiosk.journal.schema import MIGRATIONS, SCHEMA_VERSION
from kiosk.journal.store import Journal
from kiosk.ops.journalfile import inspect
from tests.ops.journals import journal_with
from tests.ops.stations import station_toml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
VENV = Path(sys.executable).parent.parent
UNITS = ("evkiosk.service", "evkiosk-cage.service", "evkiosk-backend.service")
ALL_UNITS = (*UNITS, "evkiosk-backup.service", "evkiosk-backup.timer")


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """systemd's unit syntax, strictly: sections, KEY=VALUE, repeated keys kept in order."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        assert not line.endswith("\\"), f"{path.name}:{number}: no continuation lines here"
        if line.startswith("["):
            assert line.endswith("]"), f"{path.name}:{number}: broken section header"
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}:{number}: key outside a section"
        key, sep, value = line.partition("=")
        assert sep and key.strip().isidentifier(), f"{path.name}:{number}: not KEY=VALUE"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.mark.parametrize("name", UNITS)
def test_units_have_the_required_keys(name: str) -> None:
    unit = parse_unit(DEPLOY / name)
    assert set(unit) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    assert service["Restart"] == ["always"]
    assert "@VENV@/bin/evkiosk" in service["ExecStart"][0]
    assert unit["Install"]["WantedBy"]
    if name == "evkiosk-backend.service":
        assert "backend serve" in service["ExecStart"][0]
        return
    assert service["Type"] == ["notify"] and service["WatchdogSec"] == ["30"]
    assert service["User"] == ["evkiosk"]
    assert set(service["SupplementaryGroups"][0].split()) == {"dialout", "video", "input"}
    assert service["StateDirectory"] == ["evkiosk"]
    env = " ".join(service["Environment"])
    assert "EVKIOSK_CONFIG=/etc/evkiosk/station.toml" in env
    if name == "evkiosk.service":
        assert "QT_QPA_PLATFORM=linuxfb" in env and "QT_QPA_FB_DRM=1" in env
    else:
        assert "QT_QPA_PLATFORM=wayland" in env and service["NotifyAccess"] == ["all"]
        assert service["ExecStart"][0].startswith("/usr/bin/cage ")


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (the strict parse above still ran)")
    rendered = []
    for name in ALL_UNITS:  # as install.sh renders them, with this checkout's virtualenv
        text = (DEPLOY / name).read_text().replace("@VENV@", str(VENV))
        (tmp_path / name).write_text(text)
        rendered.append(str(tmp_path / name))
    done = subprocess.run(
        [analyze, "verify", "--man=no", *rendered],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    complaints = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip()
        and not (
            "/usr/bin/cage is not executable" in line and shutil.which("cage") is None
        )  # Debian's cage package is only on cage panels
    ]
    assert complaints == [], complaints


def test_daily_backup_unit_and_timer() -> None:
    service = parse_unit(DEPLOY / "evkiosk-backup.service")["Service"]
    assert service["Type"] == ["oneshot"] and service["User"] == ["evkiosk"]
    assert "evkiosk journal backup /var/lib/evkiosk/backups" in service["ExecStart"][0]
    assert "-mtime +60" in service["ExecStartPost"][0]
    timer = parse_unit(DEPLOY / "evkiosk-backup.timer")
    assert timer["Timer"]["Persistent"] == ["true"] and timer["Install"]["WantedBy"]


def test_install_script_parses() -> None:
    subprocess.run(["bash", "-n", str(DEPLOY / "install.sh")], check=True, timeout=30)


def _staged(tmp_path: Path) -> dict[str, str]:
    """An installed layout: the live venv symlink, the config, a journal with a session."""
    prefix, etc, data = tmp_path / "opt", tmp_path / "etc", tmp_path / "data"
    for d in (prefix, etc, data / "backups"):
        d.mkdir(parents=True)
    (prefix / "venv").symlink_to(VENV)
    station_toml(etc, journal=str(data / "journal.db"))
    journal_with(data, paths.charging)
    return {
        **os.environ,
        "EVKIOSK_PREFIX": str(prefix),
        "EVKIOSK_ETC": str(etc),
        "EVKIOSK_DATA": str(data),
        "EVKIOSK_UNIT_DIR": str(tmp_path / "units"),
    }


def _plan(env: dict[str, str], *options: str) -> list[str]:
    done = subprocess.run(
        ["bash", str(DEPLOY / "install.sh"), *options, "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return [line for line in done.stdout.splitlines() if line.startswith("+ ")]


def _index(plan: list[str], *words: str) -> int:
    return next(i for i, line in enumerate(plan) if all(w in line for w in words))


def test_upgrade_backs_up_before_installing_and_starting(tmp_path: Path) -> None:
    plan = _plan(_staged(tmp_path), "--upgrade")
    stop = _index(plan, "systemctl stop")
    backup = _index(plan, "evkiosk journal backup", str(tmp_path / "data" / "backups"))
    install = _index(plan, "pip install --no-cache-dir", str(REPO))
    switch = _index(plan, "mv -T")
    start = _index(plan, "systemctl start")
    assert stop < backup < install < switch < start
    assert "runuser -u evkiosk" in plan[backup]  # the backup file belongs to the kiosk's user


def test_rollback_restores_the_last_backup_after_switching_back(tmp_path: Path) -> None:
    env = _staged(tmp_path)
    last = tmp_path / "data" / "backups" / "journal-20260101T000000Z.db"
    (tmp_path / "data" / "backups" / "LAST").write_text(f"{last}\n")
    plan = _plan(env, "--rollback")
    switch = _index(plan, "mv -T")
    restore = _index(plan, "evkiosk journal restore", str(last))
    start = _index(plan, "systemctl start")
    assert _index(plan, "systemctl stop") < switch < restore < start


def test_an_old_journal_is_backed_up_then_migrated_and_the_backup_restores(
    tmp_path: Path,
) -> None:
    """The upgrade's journal path: backup (old version's schema), the new version migrates on
    open, and the backup stays a sound journal that restore accepts."""
    journal = tmp_path / "journal.db"
    conn = sqlite3.connect(journal)
    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    conn.execute(
        "INSERT INTO outbox (kind, idempotency_key, payload_json, created_at) "
        "VALUES ('session', 'session:old', '{}', '2026-01-01T00:00:00+00:00')"
    )
    conn.commit()
    conn.close()
    backup = tmp_path / "before-upgrade.db"
    assert main(["journal", "backup", str(backup), "--journal", str(journal)]) == 0
    upgraded = Journal.open(journal)  # the new version starting
    assert upgraded.schema_version == SCHEMA_VERSION
    assert [r.idempotency_key for r in upgraded.outbox_pending()] == ["session:old"]
    upgraded.close()
    info = inspect(backup)
    assert info.ok and info.schema_version == 1 and info.counts["outbox"] == 1
    assert main(["journal", "restore", str(backup), "--journal", str(journal)]) == 0
    assert inspect(journal).schema_version == 1


def test_backend_install_touches_only_the_backend(tmp_path: Path) -> None:
    plan = _plan(_staged(tmp_path), "--backend")
    assert any("pip install --no-cache-dir" in line and "[backend]" in line for line in plan)
    enabled = [line for line in plan if "systemctl enable" in line]
    assert enabled == ["+ systemctl enable evkiosk-backend.service"]
    assert not any("usermod" in line or "evkiosk.service" in line for line in plan)


def test_a_fresh_install_does_not_start_on_the_sample_config(tmp_path: Path) -> None:
    env = _staged(tmp_path)
    (tmp_path / "etc" / "station.toml").unlink()  # a new panel: no config yet
    plan = _plan(env)
    assert any("station.toml" in line and "sed" in line for line in plan)
    assert not any("systemctl start" in line for line in plan)
    assert any("systemctl enable evkiosk.service" in line for line in plan)
