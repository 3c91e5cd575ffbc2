"""Crash drills: a real station process is SIGKILLed right after each journal commit, then
restarted; recovery must finish every open session with the money exactly right.

For every kill point the checks are made on what is on disk: the journal file and the card
terminal's own record of the bank side (a file the killed process cannot tidy up).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from doubles.rig import tariff_cost

from kiosk.journal.store import Journal
from tests.killdrill import Zygote

STATION = Path(__file__).parent / "doubles" / "crash_station.py"
# About a hundred station processes per drill: minutes on a loaded machine, not a hang.
DRILL_TIMEOUT_S = 900


@pytest.fixture(scope="module")
def station() -> Iterator[Zygote]:
    """Station processes forked from one that imported the station once (tests/killdrill.py)."""
    with Zygote(STATION) as zygote:
        yield zygote


def run(
    station: Zygote, state: Path, mode: str, kill_after: int | str = 0
) -> subprocess.CompletedProcess[str]:
    """One station process on `state`: a fresh process for every run."""
    return station.run(state, mode, kill_after)


def killed(station: Zygote, state: Path, mode: str, kill_after: int) -> None:
    """Run until the kill after commit `kill_after`. The drills are deterministic (one order of
    events per fake instant): a run that ends before its kill point is a failure."""
    proc = run(station, state, mode, kill_after)
    assert proc.returncode == -signal.SIGKILL, (kill_after, proc.returncode, proc.stderr[-2000:])


def check_money(state: Path) -> dict[str, Any]:
    """Every hold ended exactly once, for the tariff cost of its recorded readings."""
    bank = json.loads((state / "bank.json").read_text())
    journal = Journal.open(state / "journal.db")
    try:
        assert journal.open_sessions() == [], "a session was left open"
        assert journal.query("SELECT count(*) FROM card_results WHERE consumed = 0") == [(0,)]
        auths = {
            receipt: sid
            for sid, receipt in journal.query(
                "SELECT session_id, receipt_no FROM authorisations WHERE receipt_no IS NOT NULL"
            )
        }
        for receipt, hold in bank["holds"].items():
            endings = [
                op for op in hold["ops"] if op.startswith("settle:") or op == "auto_reversal"
            ]
            assert len(endings) == 1, (receipt, hold)
            assert not [op for op in hold["ops"] if op.startswith("refused")], (receipt, hold)
            assert hold["status"] in ("booked", "reversed", "auto_reversed"), (receipt, hold)
            sid = auths.get(int(receipt))
            if sid is None:
                # Never acknowledged, so never journaled as a hold: the terminal reversed it.
                assert hold["status"] in ("auto_reversed", "reversed"), (receipt, hold)
                continue
            (tariff,) = journal.query(
                "SELECT tariff_json FROM sessions WHERE session_id = ?", (sid,)
            )
            readings = journal.readings(sid)
            expected = 0
            if (
                readings
                and readings[-1].reading.energy_import_wh > readings[0].reading.energy_import_wh
            ):
                expected = min(tariff_cost(tariff[0], readings), hold["amount"])
            booked = hold["booked"] or 0
            assert booked == expected, (sid, booked, expected)
            if hold["booked"] is not None:
                reports = journal.query(
                    "SELECT payload_json FROM outbox WHERE idempotency_key = ?", (f"session:{sid}",)
                )
                assert len(reports) == 1, sid
                assert json.loads(reports[0][0])["final_minor"] == booked
        backend = state / "backend.json"
        links = json.loads(backend.read_text())["links"] if backend.exists() else {}
        qr = dict(
            journal.query("SELECT link_id, session_id FROM authorisations WHERE method = 'qr'")
        )
        for link_id, link in links.items():
            sid = qr.get(link_id)
            if sid is None:
                # Paid while the kiosk was down, never journaled: the link is cancelled.
                assert link["status"] in ("pending", "cancelled"), (link_id, link)
                continue
            sql = "SELECT tariff_json FROM sessions WHERE session_id = ?"
            (tariff,) = journal.query(sql, (sid,))
            readings = journal.readings(sid)
            energy = [r.reading.energy_import_wh for r in readings]
            expected = 0
            if energy and energy[-1] > energy[0]:
                expected = min(tariff_cost(tariff[0], readings), link["amount"])
            reports = journal.query(
                "SELECT payload_json FROM outbox WHERE idempotency_key = ?", (f"session:{sid}",)
            )
            assert len(reports) == 1, sid  # the backend captures from this record, once
            assert json.loads(reports[0][0])["final_minor"] == expected, (sid, expected)
        ids = [r[0] for r in journal.query("SELECT session_id FROM sessions")]
        assert len(ids) == len(set(ids))
        keys = [r[0] for r in journal.query("SELECT idempotency_key FROM outbox")]
        assert len(keys) == len(set(keys))
        return bank
    finally:
        journal.close()


def baseline(station: Zygote, tmp: Path) -> int:
    state = tmp / "baseline"
    state.mkdir()
    proc = run(station, state, "run")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    bank = check_money(state)
    assert sorted(h["status"] for h in bank["holds"].values()) == ["booked", "reversed"]
    links = json.loads((state / "backend.json").read_text())["links"]
    assert [link["status"] for link in links.values()] == ["authorized"]
    return int(summary["commits"])


@pytest.mark.slow
@pytest.mark.timeout(DRILL_TIMEOUT_S)
def test_sigkill_after_every_journal_commit_then_recover(station: Zygote, tmp_path: Path) -> None:
    commits = baseline(station, tmp_path)
    assert commits >= 30  # the drill must reach deep into all three sessions
    exercised = 0
    for kill_after in range(1, commits + 1):
        state = tmp_path / f"kill-{kill_after}"
        state.mkdir()
        killed(station, state, "run", kill_after)
        recovered = run(station, state, "recover")
        assert recovered.returncode == 0, (kill_after, recovered.stderr)
        check_money(state)
        exercised += 1
        shutil.rmtree(state)
    print(f"\ncrash drill: {exercised} kill points (every journal commit of the run)")
    assert exercised == commits


@pytest.mark.slow
@pytest.mark.timeout(DRILL_TIMEOUT_S)
def test_sigkill_during_recovery_as_well(station: Zygote, tmp_path: Path) -> None:
    """A second crash while recovering from the first still loses and doubles nothing."""
    commits = baseline(station, tmp_path)
    exercised = 0
    for kill_after in range(2, commits + 1, 3):
        state = tmp_path / f"kill-{kill_after}"
        state.mkdir()
        killed(station, state, "run", kill_after)
        second = run(station, state, "recover", 1)
        assert second.returncode in (0, -signal.SIGKILL), second.stderr
        exercised += second.returncode == -signal.SIGKILL
        recovered = run(station, state, "recover")
        assert recovered.returncode == 0, (kill_after, recovered.stderr)
        check_money(state)
        shutil.rmtree(state)
    print(f"\ncrash drill: {exercised} double kills (first commit of recovery)")
    assert exercised > 0


@pytest.mark.slow
@pytest.mark.timeout(DRILL_TIMEOUT_S)
def test_sigkill_at_every_commit_of_a_recovery(station: Zygote, tmp_path: Path) -> None:
    """Killed while charging, then killed again after each commit the recovery makes."""
    commits = baseline(station, tmp_path)
    first = tmp_path / "first"
    first.mkdir()
    kill_while_charging = commits // 4  # the first session is charging here
    assert run(station, first, "run", kill_while_charging).returncode == -signal.SIGKILL
    probe = tmp_path / "probe"
    shutil.copytree(first, probe)
    clean = run(station, probe, "recover")
    assert clean.returncode == 0, clean.stderr
    check_money(probe)
    recovery_commits = int(json.loads(clean.stdout.strip().splitlines()[-1])["commits"])
    assert recovery_commits >= 5
    for kill_after in range(1, recovery_commits + 1):
        state = tmp_path / f"second-{kill_after}"
        shutil.copytree(first, state)
        killed(station, state, "recover", kill_after)
        recovered = run(station, state, "recover")
        assert recovered.returncode == 0, (kill_after, recovered.stderr)
        check_money(state)
        shutil.rmtree(state)
    print(f"\ncrash drill: {recovery_commits} kill points inside one recovery")


@pytest.mark.slow
@pytest.mark.parametrize("where", ["preauth:1", "preauth:2", "settle:1", "settle:2"])
def test_sigkill_between_the_bank_and_the_journal(
    station: Zygote, tmp_path: Path, where: str
) -> None:
    """The terminal has acted (hold made, or booked / reversed) and the kiosk dies before the
    answer is journaled: the hold must be reversed by the terminal, or the lost settle found
    out by asking, never sent twice."""
    killed = run(station, tmp_path, "run", where)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    recovered = run(station, tmp_path, "recover")
    assert recovered.returncode == 0, recovered.stderr
    bank = check_money(tmp_path)
    ops = [op for hold in bank["holds"].values() for op in hold["ops"]]
    if where.startswith("preauth"):
        assert "auto_reversal" in ops
    else:
        assert sum(op.startswith("settle:") for op in ops) == int(where[-1])
