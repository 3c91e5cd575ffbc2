"""evkiosk journal check|backup|restore on real journal files, with a second process writing
to the journal as a running kiosk does."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from doubles import paths

from kiosk.cli.main import main
from kiosk.journal.store import Journal
from kiosk.ops.journalfile import inspect
from tests.ops.journals import Writer, journal_with


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return journal_with(tmp_path, paths.charging)


@pytest.fixture
def running(journal: Path) -> Iterator[Writer]:
    writer = Writer(journal, 400)
    try:
        yield writer
    finally:
        if writer.proc.poll() is None:
            writer.stop()


def test_check_reports_version_counts_and_integrity(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["journal", "check", "--journal", str(journal)]) == 0
    out = capsys.readouterr().out
    assert "integrity ok" in out and "sessions        1" in out


def test_check_a_damaged_journal_exits_1_and_changes_nothing(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(journal.read_bytes())
    data[4096 * 2 : 4096 * 2 + 64] = b"\xff" * 64
    journal.write_bytes(bytes(data))
    assert main(["journal", "check", "--journal", str(journal), "--json"]) == 1
    assert '"ok": false' in capsys.readouterr().out
    assert journal.read_bytes() == bytes(data)


def test_backup_while_the_kiosk_writes_is_consistent(
    journal: Path, running: Writer, tmp_path: Path
) -> None:
    dest = tmp_path / "backups"
    dest.mkdir()
    assert main(["journal", "backup", str(dest), "--journal", str(journal)]) == 0
    [copy] = list(dest.iterdir())
    info = inspect(copy)
    assert info.ok and info.counts["sessions"] == 1
    assert 0 <= info.counts["card_results"] <= 400
    # The copy stands alone (no -wal needed) and the core opens it.
    assert not Path(f"{copy}-wal").exists() or Path(f"{copy}-wal").stat().st_size == 0
    Journal.open(copy).close()


def test_backup_never_overwrites(journal: Path, tmp_path: Path) -> None:
    existing = tmp_path / "taken.db"
    existing.write_bytes(b"precious")
    assert main(["journal", "backup", str(existing), "--journal", str(journal)]) == 2
    assert existing.read_bytes() == b"precious"


def test_restore_refused_while_the_kiosk_holds_the_journal(
    journal: Path, running: Writer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "b.db"
    assert main(["journal", "backup", str(backup), "--journal", str(journal)]) == 0
    before = journal.read_bytes()
    assert main(["journal", "restore", str(backup), "--journal", str(journal)]) == 2
    err = capsys.readouterr().err
    assert f"pid {running.proc.pid}" in err and "stop the kiosk" in err
    assert journal.read_bytes() == before


def test_restore_keeps_the_replaced_journal(
    journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "b.db"
    assert main(["journal", "backup", str(backup), "--journal", str(journal)]) == 0
    writer = Writer(journal, 25)  # the journal moves on after the backup
    assert writer.readline() == "written"
    writer.stop()
    assert main(["journal", "restore", str(backup), "--journal", str(journal)]) == 0
    out = capsys.readouterr().out
    [kept] = [
        p
        for p in tmp_path.iterdir()
        if ".replaced-" in p.name and p.suffix != "" and not p.name.endswith(("-wal", "-shm"))
    ]
    assert str(kept) in out
    assert inspect(kept).counts["card_results"] == 25  # nothing of it was lost
    assert inspect(journal).counts["card_results"] == 0  # the backup's content is in place
    restored = Journal.open(journal)  # the kiosk opens it again (WAL, migrations)
    assert len(restored.open_sessions()) == 1
    restored.close()


def test_restore_refuses_a_broken_backup(journal: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\0" + b"\x01" * 5000)
    before = journal.read_bytes()
    assert main(["journal", "restore", str(bad), "--journal", str(journal)]) == 2
    assert journal.read_bytes() == before
    not_journal = tmp_path / "other.db"
    sqlite3.connect(not_journal).close()
    assert main(["journal", "restore", str(not_journal), "--journal", str(journal)]) == 2


def test_location_comes_from_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.ops.stations import station_toml

    config = station_toml(tmp_path, journal="j.db")
    journal_with(tmp_path, paths.charging, name="j.db")
    assert main(["journal", "check", "--config", str(config)]) == 0
    assert str(tmp_path / "j.db") in capsys.readouterr().out
    config.write_text("[station]\nname = 1\n")
    assert main(["journal", "check", "--config", str(config)]) == 2
    assert "station.name" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can hand a file to another user")
def test_restore_run_as_root_keeps_the_kiosk_users_ownership(journal: Path, tmp_path: Path) -> None:
    backup = tmp_path / "b.db"
    assert main(["journal", "backup", str(backup), "--journal", str(journal)]) == 0
    os.chown(journal, 65534, 65534)
    os.chmod(journal, 0o640)
    assert main(["journal", "restore", str(backup), "--journal", str(journal)]) == 0
    info = journal.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (65534, 65534, 0o640)
