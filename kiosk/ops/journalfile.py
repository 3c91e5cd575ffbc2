"""The journal file as an operator handles it: inspect read-only, back up, restore.

Everything here reads the live journal read-only (SQLite URI mode=ro), so it works while the
kiosk runs in WAL mode. A backup uses SQLite's online backup API: a consistent copy even while
the kiosk writes. A restore never deletes anything: the journal it replaces is renamed aside
with its -wal/-shm files, so it stays openable as it was.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from kiosk.journal.schema import SCHEMA_VERSION
from kiosk.ops.holders import Holder, processes_holding

SIDE_FILES = ("-wal", "-shm")


class JournalFileError(Exception):
    """The journal file cannot be used for this; the message says which file, why, what to do."""


class JournalRequestError(JournalFileError):
    """The request itself cannot be done as asked (missing file, target exists, journal in use)."""


@dataclass(frozen=True, slots=True)
class JournalInfo:
    path: Path
    size_bytes: int
    schema_version: int
    problems: tuple[str, ...]  # empty: integrity ok and the schema is one this version knows
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection; raises JournalFileError if the file is missing or unreadable."""
    if not path.is_file():
        raise JournalRequestError(f"journal {path}: no such file")
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise JournalFileError(f"journal {path}: cannot be opened ({exc})") from None
    return conn


def inspect(path: Path, *, full: bool = True) -> JournalInfo:
    """Integrity (full `integrity_check`, or `quick_check`), schema version, row counts."""
    conn = open_readonly(path)
    try:
        problems: list[str] = []
        try:
            pragma = "integrity_check" if full else "quick_check"
            rows = [str(r[0]) for r in conn.execute(f"PRAGMA {pragma}(20)").fetchall()]
        except sqlite3.DatabaseError as exc:
            rows = [str(exc)]
        if rows != ["ok"]:
            problems.extend(f"integrity: {r}" for r in rows)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            return JournalInfo(path, _size(path), -1, (*problems, f"unreadable: {exc}"))
        if version > SCHEMA_VERSION:
            problems.append(
                f"schema version {version} is newer than this evkiosk knows ({SCHEMA_VERSION})"
            )
        counts: dict[str, int] = {}
        for table in _tables(conn):
            try:
                counts[table] = int(
                    conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 - names from sqlite_master
                )
            except sqlite3.DatabaseError as exc:
                problems.append(f"table {table}: {exc}")
        if "sessions" not in counts and not problems:
            problems.append("not an evkiosk journal (no sessions table)")
        return JournalInfo(path, _size(path), version, tuple(problems), counts)
    finally:
        conn.close()


def _tables(conn: sqlite3.Connection) -> list[str]:
    try:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY rowid"
        ).fetchall()
    except sqlite3.DatabaseError:
        return []
    return [str(r[0]) for r in rows]


def _size(path: Path) -> int:
    return sum(
        p.stat().st_size for p in (path, *(Path(f"{path}{s}") for s in SIDE_FILES)) if p.exists()
    )


# ---------------------------------------------------------------------------- in use?

# SQLite's WAL index (-shm) locks: 8 slots from byte 120; the 9th byte (128) is the
# "dead man switch" every open connection holds a shared lock on (sqlite3 src/wal.c).
_DMS_OFFSET = 128


def _shm_in_use(path: Path) -> bool:
    shm = Path(f"{path}-shm")
    try:
        fd = os.open(shm, os.O_RDONLY)
    except OSError:
        return False
    try:
        # F_GETLK asks whether a write lock on the byte would conflict with another process's.
        query = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, _DMS_OFFSET, 1, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
        kind = struct.unpack("hhqqi", answer)[0]
        return bool(kind != fcntl.F_UNLCK)
    except OSError:
        return False
    finally:
        os.close(fd)


def users_of(path: Path) -> list[Holder]:
    """Other processes with the journal open (a running kiosk). Empty when free."""
    scan = processes_holding(path, *(Path(f"{path}{s}") for s in SIDE_FILES))
    if scan.holders:
        return list(scan.holders)
    if _shm_in_use(path):  # /proc did not show it (another user's process, not root)
        return [Holder(0, "a process of another user holds a lock on the journal")]
    return []


# ---------------------------------------------------------------------------- backup


def _stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def _copy(src: sqlite3.Connection, dest: Path) -> None:
    target = sqlite3.connect(dest)
    try:
        src.backup(target)
        # A copy that stands alone: no WAL beside it that could be lost on the way.
        target.execute("PRAGMA journal_mode = DELETE")
    finally:
        target.close()
    with open(dest, "rb") as fh:
        os.fsync(fh.fileno())


def backup(journal: Path, dest: Path, now: datetime | None = None) -> Path:
    """Copy the journal to `dest` (a file, or a directory to put a dated file in).

    Refuses to overwrite; the copy is verified before it gets its final name.
    """
    if dest.is_dir():
        dest = dest / f"{journal.stem}-{_stamp(now)}{journal.suffix or '.db'}"
    if dest.exists():
        raise JournalRequestError(f"backup {dest}: already exists; give a new name (not replaced)")
    if not dest.parent.is_dir():
        raise JournalRequestError(f"backup {dest}: directory {dest.parent} does not exist")
    partial = dest.with_name(dest.name + ".partial")
    src = open_readonly(journal)
    try:
        _copy(src, partial)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise JournalFileError(f"backup of {journal} failed: {exc}") from None
    finally:
        src.close()
    info = inspect(partial)
    if not info.ok:
        partial.unlink(missing_ok=True)
        raise JournalFileError(
            f"backup of {journal} is not sound ({'; '.join(info.problems)}); the journal "
            "itself may be damaged: run 'evkiosk journal check'"
        )
    os.replace(partial, dest)
    return dest


# ---------------------------------------------------------------------------- restore


@dataclass(frozen=True, slots=True)
class Restored:
    journal: Path
    kept: Path | None  # where the replaced journal now is (None: there was none)
    info: JournalInfo


def restore(source: Path, journal: Path, now: datetime | None = None) -> Restored:
    """Put a backup in place of the journal. Refuses while any process has the journal open."""
    try:
        info = inspect(source)
    except JournalRequestError:
        raise
    except JournalFileError as exc:  # the backup is unreadable: bad input, nothing touched
        raise JournalRequestError(f"restore: {exc}; nothing was changed") from None
    if not info.ok:
        raise JournalRequestError(
            f"restore: {source} is not a sound journal ({'; '.join(info.problems)}); "
            "nothing was changed"
        )
    if info.schema_version < 1:
        raise JournalRequestError(f"restore: {source} is not an evkiosk journal; nothing changed")
    users = users_of(journal)
    if users:
        raise JournalRequestError(
            f"restore: the journal {journal} is open in "
            f"{', '.join(u.describe() for u in users)}; stop the kiosk first "
            "(systemctl stop evkiosk); nothing was changed"
        )
    if not journal.parent.is_dir():
        raise JournalRequestError(f"restore: directory {journal.parent} does not exist")
    staging = journal.with_name(journal.name + ".restoring")
    staging.unlink(missing_ok=True)
    src = open_readonly(source)
    try:
        _copy(src, staging)
    except (sqlite3.Error, OSError) as exc:
        staging.unlink(missing_ok=True)
        raise JournalFileError(
            f"restore: copying {source} failed ({exc}); nothing changed"
        ) from None
    finally:
        src.close()
    # The restored file is switched back to WAL on first open by the kiosk (Journal.open).
    _same_owner(staging, journal if journal.exists() else journal.parent)
    kept: Path | None = None
    if journal.exists():
        kept = journal.with_name(f"{journal.name}.replaced-{_stamp(now)}")
        if kept.exists():
            staging.unlink()
            raise JournalRequestError(f"restore: {kept} already exists; try again in a second")
        # Renamed with its -wal/-shm, it stays a complete, openable database.
        for suffix in SIDE_FILES:
            side = Path(f"{journal}{suffix}")
            if side.exists():
                os.replace(side, Path(f"{kept}{suffix}"))
        os.replace(journal, kept)
    os.replace(staging, journal)
    _fsync_dir(journal.parent)
    return Restored(journal, kept, inspect(journal))


def _same_owner(path: Path, like: Path) -> None:
    """Run as root, give the restored file the kiosk's owner: a root-owned journal would
    stop the kiosk's user from writing to it."""
    if os.geteuid() != 0:
        return
    info = like.stat()
    os.chown(path, info.st_uid, info.st_gid)
    if like.is_file():
        os.chmod(path, info.st_mode & 0o777)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
