"""Check, back up or restore the kiosk's journal (the SQLite file that holds every session).

  evkiosk journal check [--config FILE | --journal PATH] [--json]
  evkiosk journal backup DEST [--config FILE | --journal PATH]
  evkiosk journal restore SRC [--config FILE | --journal PATH]

check and backup read the journal read-only and may run while the kiosk runs; backup uses
SQLite's online backup API, so the copy is consistent. DEST may be a directory (a dated file is
made in it); an existing file is never overwritten. restore refuses while the kiosk (or any
process) has the journal open, checks the backup first, and keeps the replaced journal beside
it as JOURNAL.replaced-<UTC time>. Exit codes: 0 ok, 1 damaged journal or failed copy,
2 bad input (config, missing file, journal in use).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kiosk.journal.schema import SCHEMA_VERSION
from kiosk.ops.journalfile import (
    JournalFileError,
    JournalInfo,
    JournalRequestError,
    backup,
    inspect,
    restore,
)
from kiosk.ops.locate import LocateError, add_location_arguments, journal_path

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "examples:\n" + "\n".join(
        "  " + line.strip() for line in (__doc__ or "").splitlines()[2:5]
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="integrity, schema version and row counts")
    add_location_arguments(check)
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(handler=run_check)
    save = actions.add_parser("backup", help="consistent copy, also while the kiosk runs")
    save.add_argument("dest", metavar="DEST", type=Path, help="a new file, or a directory")
    add_location_arguments(save)
    save.set_defaults(handler=run_backup)
    load = actions.add_parser("restore", help="replace the journal with a backup (kiosk stopped)")
    load.add_argument("source", metavar="SRC", type=Path, help="a backup made by 'backup'")
    add_location_arguments(load)
    load.set_defaults(handler=run_restore)


def run(args: argparse.Namespace) -> int:  # argparse always sets a handler (action required)
    handler = getattr(args, "handler", None)
    return int(handler(args)) if handler else EXIT_USAGE


def _locate(args: argparse.Namespace) -> Path | None:
    try:
        return journal_path(args)
    except LocateError as exc:
        print(f"evkiosk journal: {exc}", file=sys.stderr)
        return None


def info_json(info: JournalInfo) -> dict[str, object]:
    return {
        "path": str(info.path),
        "ok": info.ok,
        "size_bytes": info.size_bytes,
        "schema_version": info.schema_version,
        "schema_version_expected": SCHEMA_VERSION,
        "problems": list(info.problems),
        "counts": info.counts,
    }


def run_check(args: argparse.Namespace) -> int:
    path = _locate(args)
    if path is None:
        return EXIT_USAGE
    try:
        info = inspect(path)
    except JournalFileError as exc:
        print(f"evkiosk journal check: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, JournalRequestError) else EXIT_FAILURE
    if args.json:
        print(json.dumps(info_json(info), indent=2))
    else:
        print(f"journal {info.path} ({info.size_bytes} bytes)")
        pending = "" if info.schema_version >= SCHEMA_VERSION else " (migrated on next start)"
        print(f"  schema version {info.schema_version} of {SCHEMA_VERSION}{pending}")
        for table, count in info.counts.items():
            print(f"  {table:15} {count}")
        if info.ok:
            print("  integrity ok")
        for problem in info.problems:
            print(f"  PROBLEM: {problem}")
        if not info.ok:
            print(
                "  what to do: stop the kiosk, keep a copy of this file for the operator, and "
                "restore the latest backup (evkiosk journal restore BACKUP)"
            )
    return EXIT_OK if info.ok else EXIT_FAILURE


def run_backup(args: argparse.Namespace) -> int:
    path = _locate(args)
    if path is None:
        return EXIT_USAGE
    try:
        made = backup(path, args.dest)
    except JournalFileError as exc:
        print(f"evkiosk journal backup: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, JournalRequestError) else EXIT_FAILURE
    print(f"backed up {path} to {made}")
    return EXIT_OK


def run_restore(args: argparse.Namespace) -> int:
    path = _locate(args)
    if path is None:
        return EXIT_USAGE
    try:
        done = restore(args.source, path)
    except JournalFileError as exc:
        print(f"evkiosk journal restore: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, JournalRequestError) else EXIT_FAILURE
    if done.kept is not None:
        print(f"the replaced journal was kept as {done.kept}")
    print(
        f"restored {args.source} to {done.journal} (schema version "
        f"{done.info.schema_version}; the kiosk migrates it on start if older)"
    )
    return EXIT_OK
