"""doctor: clock, free disk (configurable threshold) and the journal's integrity."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from doubles import paths

from drivers.doctor import Outcome
from drivers.doctor.host import check_clock, check_disk
from drivers.doctor.journal import check_journal
from kiosk.journal.schema import SCHEMA_VERSION
from tests.ops.journals import journal_with


def _fake_timedatectl(tmp_path: Path, answer: str, code: int = 0) -> str:
    """A stand-in for timedatectl where this machine has no systemd to ask."""
    tool = tmp_path / "timedatectl"
    tool.write_text(f"#!/bin/sh\necho {answer}\nexit {code}\n")
    tool.chmod(0o755)
    return str(tool)


def test_clock_before_2024_fails() -> None:
    check = check_clock(datetime(1970, 1, 1, tzinfo=UTC), timedatectl=None)
    assert check.outcome is Outcome.FAIL and "NTP" in check.fix


def test_clock_synchronised_or_not(tmp_path: Path) -> None:
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert check_clock(now, _fake_timedatectl(tmp_path, "yes")).outcome is Outcome.PASS
    unsynced = check_clock(now, _fake_timedatectl(tmp_path, "no"))
    assert unsynced.outcome is Outcome.WARN and "set-ntp" in unsynced.fix
    assert check_clock(now, timedatectl=None).outcome is Outcome.WARN
    broken = check_clock(now, _fake_timedatectl(tmp_path, "oops", code=1))
    assert broken.outcome is Outcome.WARN


def test_low_disk_against_a_threshold(tmp_path: Path) -> None:
    journal = tmp_path / "journal.db"
    assert check_disk(journal, min_free_mb=0).outcome is Outcome.PASS
    low = check_disk(journal, min_free_mb=1 << 40)  # more than any disk here has
    assert low.outcome is Outcome.FAIL and "MB free" in low.detail and "backups" in low.fix


def test_sound_journal_passes(tmp_path: Path) -> None:
    path = journal_with(tmp_path, paths.charging)
    check = check_journal(path)
    assert check.outcome is Outcome.PASS
    assert f"schema version {SCHEMA_VERSION}" in check.detail and "1 sessions" in check.detail


def test_corrupt_journal_fails_and_is_left_as_it_was(tmp_path: Path) -> None:
    path = journal_with(tmp_path, paths.charging)
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 2 : page * 2 + 64] = b"\xff" * 64  # a b-tree page's header
    path.write_bytes(bytes(data))
    check = check_journal(path)
    assert check.outcome is Outcome.FAIL
    assert "journal restore" in check.fix
    assert path.read_bytes() == bytes(data)


def test_journal_of_a_newer_version_fails(tmp_path: Path) -> None:
    path = journal_with(tmp_path, paths.charging)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    check = check_journal(path)
    assert check.outcome is Outcome.FAIL and "newer" in check.detail


def test_missing_journal_directory_fails(tmp_path: Path) -> None:
    check = check_journal(tmp_path / "gone" / "journal.db")
    assert check.outcome is Outcome.FAIL and "install.sh" in check.fix
    assert check_journal(tmp_path / "journal.db").outcome is Outcome.WARN
