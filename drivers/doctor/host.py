"""The machine itself: a clock that can be trusted, and room on the journal's disk."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

from drivers.doctor.result import Check, failed, passed, warned

EARLIEST_YEAR = 2024  # a clock before this has never been set (RTC-less boards start in 1970)


def check_clock(now: datetime, timedatectl: str | None = "timedatectl") -> Check:
    stamp = now.isoformat(timespec="seconds")
    if now.year < EARLIEST_YEAR:
        return failed(
            "clock",
            "system time",
            f"the clock says {stamp}",
            "set the time: enable NTP (timedatectl set-ntp true) and give the kiosk network, "
            "or fit an RTC; receipts, tariffs by time of day and TLS all need it",
        )
    tool = shutil.which(timedatectl) if timedatectl else None
    if tool is None:
        return warned(
            "clock",
            "system time",
            f"{stamp}; cannot tell whether it is synchronised (no timedatectl)",
            "make sure an NTP client runs (systemd-timesyncd or chrony)",
        )
    try:
        done = subprocess.run(
            [tool, "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return warned("clock", "system time", f"{stamp}; timedatectl failed ({exc})", "")
    answer = done.stdout.strip()
    if done.returncode != 0:
        reason = " ".join(done.stderr.split()) or f"exit {done.returncode}"
        return warned(
            "clock",
            "system time",
            f"{stamp}; timedatectl could not say ({reason})",
            "on a systemd machine: timedatectl status; make sure an NTP client runs",
        )
    if answer == "yes":
        return passed("clock", "system time", f"{stamp}, synchronised by NTP")
    return warned(
        "clock",
        "system time",
        f"{stamp}, NOT synchronised by NTP",
        "timedatectl set-ntp true; check that NTP (UDP 123) reaches a time server",
    )


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(journal: Path, min_free_mb: int) -> Check:
    where = _existing(journal.parent)
    usage = shutil.disk_usage(where)
    free_mb = usage.free // (1024 * 1024)
    detail = f"{free_mb} MB free of {usage.total // (1024 * 1024)} MB at {where}"
    if free_mb < min_free_mb:
        return failed(
            "disk",
            str(where),
            f"{detail}, below the {min_free_mb} MB the journal should have",
            "free space: move old journal backups off the kiosk, vacuum the system journal "
            "(journalctl --vacuum-size=50M), remove unused packages",
        )
    return passed("disk", str(where), detail)
