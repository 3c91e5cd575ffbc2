"""Which other processes hold a file open (a serial port, the journal), read from /proc.

A process of another user is visible only to root; callers say so when the answer may be
incomplete (`complete` is False).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Holder:
    pid: int
    command: str

    def describe(self) -> str:
        return f"pid {self.pid} ({self.command})"


@dataclass(frozen=True, slots=True)
class HolderScan:
    holders: tuple[Holder, ...]
    complete: bool  # False when some processes' open files could not be read


def _command(proc: Path) -> str:
    try:
        raw = (proc / "cmdline").read_bytes()
    except OSError:
        return "?"
    words = [w.decode(errors="replace") for w in raw.split(b"\0") if w]
    return " ".join(words)[:120] or "?"


def processes_holding(*paths: Path, proc_root: Path = Path("/proc")) -> HolderScan:
    """Processes other than this one with any of `paths` open."""
    wanted = {os.path.realpath(p) for p in paths}
    me = os.getpid()
    found: list[Holder] = []
    complete = True
    try:
        entries = list(proc_root.iterdir())
    except OSError:
        return HolderScan((), False)
    for proc in entries:
        if not proc.name.isdigit() or int(proc.name) == me:
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except PermissionError:
            complete = False
            continue
        except OSError:  # the process ended while we looked
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target in wanted:
                found.append(Holder(int(proc.name), _command(proc)))
                break
    return HolderScan(tuple(sorted(found, key=lambda h: h.pid)), complete)
