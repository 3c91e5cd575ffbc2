"""SIGKILL at every journal commit and every ZVT message of a card refund (06 31 from the
service menu), then a restart: the refund is made exactly once or not at all, and the terminal's
ledger, the kiosk's journal and the backend's books say the same.

One card session is charged and booked once; each kill point then starts from a copy of that
state (the kiosk's directory and the terminal's ledger file) with its own terminal simulator
process (`evkiosk sim terminal`), which outlives the killed kiosk as a real terminal does and
keeps a refund only after the kiosk's 80 00 00. The refund runs over TCP and over the serial
framing on a pty (DLE STX frames, link ACKs; the simulator holds the line open, so what it
sends to the dead kiosk waits on the line for the restarted one). Every point is killed over
TCP; over serial SERIAL_SAMPLE in the default run, every point with EVK_REFUND_DRILL=all.
The outbox records the kiosk queued are then delivered, twice, to a real backend over HTTP,
and the day's books are read.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from backend import books
from drivers.backend_client.wire import report_request
from drivers.zvt_sim.control import SimulatorProcess
from kiosk.journal.store import Journal
from kiosk.runtime.card_refund import refundable
from tests.backend.conftest import start_backend
from tests.e2e.drill_station import SIMULATED_STATION_MODULES
from tests.e2e.zvt_refund_kill_station import AMOUNT
from tests.killdrill import Zygote

pytestmark = pytest.mark.slow

# The points of one refund (zvt_refund_kill_station.py), in order: 1 the intent's commit;
# 2-3 06 31 sent; 4 its 80 00; 5-10 two 04 FF, each acknowledged; 11 the 04 0F; 12 its commit;
# 13-14 its 80 00 00 ("send", "sent"); 15-20 the receipt (06 D3) and the completion (06 0F),
# acknowledged; 21 the commit marking the result acknowledged; 22 the intent done; 23 the
# outbox record.
POINTS = 23
ACK_SENT = 14  # from here the terminal has its 80 00 00 and keeps the refund
ACK_MARKED = 21  # from here the journal knows it was acknowledged

# Over serial the default run kills where the line is in a different state when the kiosk
# restarts (its new 06 00 arrives while the simulator is still in the refund): the 06 31 sent
# (a card awaited), the 04 0F received and journaled, unacknowledged (the simulator awaits the
# 80 00 00), the 80 00 00 sent (the receipt is being sent to nobody), the completion awaiting
# its acknowledgement, and the acknowledgement journaled.
SERIAL_SAMPLE = (3, 11, 12, 14, 19, 21)
ALL_SERIAL = os.environ.get("EVK_REFUND_DRILL") == "all"

STATION = Path(__file__).parent / "zvt_refund_kill_station.py"
DAY = date(2026, 3, 2)  # the drill session's day (zvt_kill_station.START)


@pytest.fixture(scope="module")
def kiosks() -> Iterator[Zygote]:
    """Kiosk processes forked from one that imported the kiosk once (tests/killdrill.py)."""
    with Zygote(STATION, preload=SIMULATED_STATION_MODULES) as zygote:
        yield zygote


def station(
    kiosks: Zygote, workdir: Path, terminal: str, mode: str, kill_at: int = 0
) -> dict[str, Any]:
    """One kiosk process on `workdir` (a fresh process for every run): what it printed."""
    done = kiosks.run(workdir, terminal, mode, kill_at or "", timeout_s=180)
    if kill_at and done.returncode == -signal.SIGKILL:
        return {}
    assert done.returncode == 0, (mode, kill_at, done.returncode, done.stderr[-3000:])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def booked(kiosks: Zygote, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A kiosk directory and terminal ledger with one booked card session."""
    base = tmp_path_factory.mktemp("booked")
    with SimulatorProcess.start("tcp", base / "terminal.json") as sim:
        station(kiosks, base / "kiosk", sim.address, "book")
    yield base


def copy_of(booked: Path, into: Path) -> Path:
    shutil.copytree(booked / "kiosk", into / "kiosk")
    shutil.copy(booked / "terminal.json", into / "terminal.json")
    return into


def deliver_and_read_books(tmp_path: Path, journal: Journal) -> int:
    """Every queued record to a fresh backend, twice (a repeat after a lost answer); returns
    the refunded total of the session's day."""
    rows = journal.query("SELECT kind, payload_json FROM outbox ORDER BY id")
    server, backend = start_backend(f"sqlite:///{tmp_path / 'backend.db'}")
    with server, backend.station("ST-DRILL") as st:
        for _ in range(2):
            for kind, payload in rows:
                path, text = report_request(kind, json.loads(payload), "Europe/Berlin")
                r = st.post(
                    f"/api/v1{path}", content=text, headers={"Content-Type": "application/json"}
                )
                assert r.status_code in (200, 201), (kind, r.text)
        day = books.books(backend.svc.db, backend.svc.settings, DAY, DAY).days[0]
        refunded = day.refunded_minor
    backend.svc.close()
    return int(refunded)


def check(tmp_path: Path, ledger: dict[str, Any], journal: Journal, sid: str) -> bool:
    """The three books agree; returns whether the refund was made."""
    refunds = ledger["refunds"]
    assert len(refunds) <= 1, refunds  # never twice
    made = bool(refunds)
    assert all(r["amount_minor"] == AMOUNT for r in refunds)
    # The journal: every intent has its outcome, and it is the terminal's.
    intents = journal.query("SELECT result FROM commands WHERE kind = 'RefundCard'")
    assert len(intents) == 1 and intents[0][0] is not None, intents
    assert (intents[0][0] == "approved") is made, intents
    kept = journal.query(
        "SELECT receipt_no FROM card_results WHERE kind = 'refund' AND outcome = 'approved' "
        "AND acknowledged_at IS NOT NULL AND dropped_at IS NULL"
    )
    assert [r[0] for r in kept] == [r["receipt_no"] for r in refunds]
    booked_minor = journal.query(
        "SELECT amount_minor FROM card_results WHERE kind = 'settle' AND outcome = 'approved'"
    )[0][0]
    assert refundable(journal, sid)[0] == booked_minor - AMOUNT * made
    # What goes to the backend: one record per refund made, with the terminal's receipt.
    queued = journal.query("SELECT payload_json FROM outbox WHERE kind = 'card_refund'")
    assert [json.loads(q[0])["receipt_no"] for q in queued] == [r["receipt_no"] for r in refunds]
    assert deliver_and_read_books(tmp_path, journal) == AMOUNT * made
    return made


KILLS = [
    pytest.param(link, kill_at, id=f"{link}-{kill_at}")
    for link in ("tcp", "pty")
    for kill_at in range(1, POINTS + 1)
    if link == "tcp" or ALL_SERIAL or kill_at in SERIAL_SAMPLE
]


@pytest.mark.parametrize("link", ["tcp", "pty"])
def test_the_refund_without_a_kill_passes_every_point_once(
    kiosks: Zygote, booked: Path, tmp_path: Path, link: str
) -> None:
    """The uninterrupted refund: POINTS points (so the kills below cover every one), made once
    and reported once, over either link."""
    sid = (booked / "kiosk" / "session.txt").read_text()
    work = copy_of(booked, tmp_path)
    with SimulatorProcess.start(link, work / "terminal.json") as sim:
        run = station(kiosks, work / "kiosk", sim.address, "refund")
        assert run == {"outcome": "approved", "points": POINTS, "commits": 5}, run
        station(kiosks, work / "kiosk", sim.address, "recover")
        ledger = sim.ledger()
    journal = Journal.open(work / "kiosk" / "journal.db")
    try:
        assert check(work, ledger, journal, sid)
    finally:
        journal.close()


@pytest.mark.parametrize(("link", "kill_at"), KILLS)
def test_a_refund_killed_at_any_commit_or_message_is_made_once_or_not_at_all(
    kiosks: Zygote, booked: Path, tmp_path: Path, link: str, kill_at: int
) -> None:
    sid = (booked / "kiosk" / "session.txt").read_text()
    work = copy_of(booked, tmp_path)
    with SimulatorProcess.start(link, work / "terminal.json") as sim:
        assert station(kiosks, work / "kiosk", sim.address, "refund", kill_at=kill_at) == {}
        station(kiosks, work / "kiosk", sim.address, "recover")
        ledger = sim.ledger()
        asked = sim.call("commands_seen").count("06 20")
    journal = Journal.open(work / "kiosk" / "journal.db")
    try:
        made = check(work, ledger, journal, sid)
    finally:
        journal.close()
    # Before the kiosk's 80 00 00 to the result left, the terminal reversed the refund; from
    # then on it kept it, and the restart learnt that from the terminal itself (Repeat Receipt,
    # once) wherever the journal had not yet marked the acknowledgement.
    assert made is (kill_at >= ACK_SENT), (kill_at, made)
    assert asked == (1 if kill_at < ACK_MARKED else 0), (kill_at, asked)
