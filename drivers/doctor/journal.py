"""The journal: there (or creatable), sound, and of a schema version this evkiosk knows."""

from __future__ import annotations

import os
from pathlib import Path

from drivers.doctor.result import Check, failed, passed, warned
from kiosk.journal.schema import SCHEMA_VERSION
from kiosk.ops.journalfile import JournalFileError, inspect

RESTORE_FIX = (
    "stop the kiosk, keep a copy of the file for the operator, and restore the latest backup "
    "(evkiosk journal restore BACKUP); open sessions in it may need the operator"
)


def check_journal(path: Path) -> Check:
    subject = str(path)
    if not path.exists():
        if path.parent.is_dir() and os.access(path.parent, os.W_OK):
            return warned(
                "journal",
                subject,
                "does not exist yet",
                "nothing to do on a new station: the kiosk creates it on first start",
            )
        return failed(
            "journal",
            subject,
            f"does not exist, and {path.parent} is missing or not writable",
            f"create {path.parent} for the kiosk's user (install.sh makes /var/lib/evkiosk)",
        )
    try:
        info = inspect(path)
    except JournalFileError as exc:
        return failed("journal", subject, str(exc), RESTORE_FIX)
    if info.schema_version > SCHEMA_VERSION:
        return failed(
            "journal",
            subject,
            f"schema version {info.schema_version} is newer than this evkiosk ({SCHEMA_VERSION})",
            "run the newer evkiosk that wrote it, or restore a backup made by this version",
        )
    if not info.ok:
        return failed("journal", subject, "damaged: " + "; ".join(info.problems), RESTORE_FIX)
    note = "" if info.schema_version == SCHEMA_VERSION else " (migrated on the next start)"
    return passed(
        "journal",
        subject,
        f"integrity ok, schema version {info.schema_version}{note}, "
        f"{info.counts.get('sessions', 0)} sessions, {info.size_bytes} bytes",
    )
