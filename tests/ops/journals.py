"""Journal files written by the core's own code: the pure machine driven along a canonical
path, every step recorded by `Journal.record_step`, as the runtime does."""

from __future__ import annotations

from pathlib import Path

from doubles import paths
from doubles.builders import Driver

from kiosk.journal.store import Journal
from kiosk.session import events as ev


def record(journal: Journal, setup: paths.Setup, driver: Driver | None = None) -> Driver:
    class Recording(Driver):
        def __call__(self, event: ev.Event) -> tuple:  # type: ignore[type-arg]
            before = self.st
            commands = Driver.__call__(self, event)
            journal.record_step(event, before, self.st, commands)
            return commands

    d = Recording(driver.st if driver is not None else None)
    setup(d)
    return d


def journal_with(tmp_path: Path, *setups: paths.Setup, name: str = "journal.db") -> Path:
    path = tmp_path / name
    journal = Journal.open(path)
    try:
        for setup in setups:
            record(journal, setup)
    finally:
        journal.close()
    return path
