"""kill -9 of the kiosk in the middle of an OCPP transaction, at several points: after the
restart the CSMS has one transaction, started once and ended once, seqNo continuous (a resend
carries the message id of the first send), and the cost it was told is what the journal
booked."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from kiosk.journal.store import Journal
from tests.e2e.rig import BackendProcess
from tests.e2e.test_ocpp_offline import delivered_once_in_order
from tests.ocpp.peer import Csms, require_peer

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).parent / "ocpp_station.py"


@pytest.fixture
def csms(tmp_path: Path) -> Iterator[Csms]:
    require_peer()
    peer = Csms(tmp_path / "csms.jsonl").start()
    try:
        yield peer
    finally:
        peer.stop()


def station(
    workdir: Path,
    csms: Csms,
    backend: BackendProcess,
    mode: str,
    kill: int,
    *,
    versions: str = "2.1",
) -> subprocess.CompletedProcess[str]:
    args = [str(workdir), csms.url, backend.url, backend.token, mode, str(kill), versions]
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_kill_mid_transaction_the_csms_sees_one_transaction_ended_once_at_the_booked_cost(
    backend: BackendProcess, tmp_path: Path
) -> None:
    require_peer()
    probe = Csms(tmp_path / "probe.jsonl").start()
    try:
        clean = station(tmp_path / "clean", probe, backend, "run", 0)
    finally:
        probe.stop()
    assert clean.returncode == 0, clean.stderr[-3000:]
    total = json.loads(clean.stdout)["commits"]
    assert total >= 20
    for n in (total // 5, total // 2, total * 4 // 5):
        record = tmp_path / f"csms-{n}.jsonl"
        csms = Csms(record).start()
        try:
            workdir = tmp_path / f"kill-{n}"
            cut = station(workdir, csms, backend, "run", n)
            assert cut.returncode == -signal.SIGKILL, (n, cut.stdout, cut.stderr[-3000:])
            after = station(workdir, csms, backend, "recover", 0)
            assert after.returncode == 0, (n, after.stderr[-3000:])
            state = json.loads(after.stdout)
            assert state["open"] == 0 and state["csms_queued"] == 0, (n, state)
        finally:
            csms.stop()
        assert csms.errors() == [], n
        journal = Journal.open(workdir / "state" / "journal.db")
        try:
            rows = journal.query(
                "SELECT session_id, json_extract(state_json, '$.settlement.final_minor') "
                "FROM sessions JOIN authorisations USING (session_id)"
            )
        finally:
            journal.close()
        if not rows:  # killed before the card was approved: no transaction at all
            assert csms.calls("TransactionEvent") == [], n
            continue
        ((sid, booked),) = rows
        events = delivered_once_in_order(csms, sid)
        kinds = [e["eventType"] for e in events]
        assert kinds.count("Started") == 1 and kinds.count("Ended") == 1, (n, kinds)
        assert kinds[0] == "Started" and kinds[-1] == "Ended", (n, kinds)
        cost = events[-1]["costDetails"]["totalCost"]["total"]["inclTax"]  # type: ignore[index]
        assert cost == Decimal(booked) / 100, (n, cost, booked)
        settlements = {m: p for m, p in csms.calls("NotifySettlement")}
        assert len(settlements) == 1, n
        (settled,) = settlements.values()
        assert settled["settlementAmount"] == Decimal(booked) / 100, n
