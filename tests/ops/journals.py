"""Journal files written by the core's own code: the pure machine driven along a canonical
path, every step recorded by `Journal.record_step`, as the runtime does."""

from __future__ import annotations

import subprocess
import sys
import textwrap
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


REPO = Path(__file__).resolve().parents[2]

# A kiosk stand-in: opens the journal with the core's Journal and writes card results (the
# terminal thread's path) until told to stop.
WRITER = textwrap.dedent(
    """
    import sys
    from kiosk.devices import CardResult, PaymentOutcome
    from kiosk.journal.store import Journal
    journal = Journal.open(sys.argv[1])
    print("open", flush=True)
    for n in range(int(sys.argv[2])):
        journal.record_card_result(None, "preauth", CardResult(
            PaymentOutcome.DECLINED, 100 + n, "EUR", receipt_no=n))
    print("written", flush=True)
    sys.stdin.read()
    journal.close()
    """
)


class Writer:
    def __init__(self, journal: Path, rows: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(journal), str(rows)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert self.readline() == "open"

    def readline(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def stop(self) -> None:
        self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0
