"""OCPP 1.6: the CSMS gives the transactionId in its answer to StartTransaction, so a Stop
queued later must carry it. The kiosk is killed (-9) mid-charge after the CSMS answered the
Start; it restarts while the CSMS is away and the session is stopped and settled offline; when
the CSMS is back, the queued Stop arrives once, with the id the CSMS gave, and the meter
reading the journal has."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.journal.store import Journal
from tests.e2e.rig import BackendProcess
from tests.e2e.test_ocpp_kill import station
from tests.ocpp.peer import Csms, require_peer

pytestmark = pytest.mark.slow


@pytest.fixture
def csms(tmp_path: Path) -> Iterator[Csms]:
    require_peer()
    peer = Csms(tmp_path / "csms.jsonl", protocols=("ocpp1.6",))
    try:
        yield peer
    finally:
        peer.stop()


def _answer(csms: Csms, message_id: str) -> dict[str, Any]:
    (answer,) = [
        m.frame[2] for m in csms.messages() if m.outbound and m.frame[:2] == [3, message_id]
    ]
    return dict(answer)


def test_16_stop_queued_offline_after_a_kill_goes_once_with_the_csms_transaction_id(
    backend: BackendProcess, tmp_path: Path, csms: Csms
) -> None:
    workdir = tmp_path / "kiosk"
    csms.start()
    cut = station(workdir, csms, backend, "charge", 0, versions="2.1,2.0.1,1.6")
    assert cut.returncode == -signal.SIGKILL, (cut.stdout, cut.stderr[-3000:])
    ((start_id, start),) = csms.calls("StartTransaction")
    transaction_id = _answer(csms, start_id)["transactionId"]
    assert csms.calls("MeterValues"), "the CSMS saw the charge live"
    csms.stop()  # the operator's CSMS is away while the kiosk restarts and the session ends

    offline = station(workdir, csms, backend, "recover-offline", 0, versions="2.1,2.0.1,1.6")
    assert offline.returncode == 0, offline.stderr[-3000:]
    state = json.loads(offline.stdout)
    assert state["open"] == 0 and state["csms_queued"] > 0, state
    assert csms.calls("StopTransaction") == []

    csms.start()  # back, on the same address
    after = station(workdir, csms, backend, "recover", 0, versions="2.1,2.0.1,1.6")
    assert after.returncode == 0, after.stderr[-3000:]
    assert json.loads(after.stdout)["csms_queued"] == 0
    csms.stop()

    assert csms.errors() == [], "the CSMS refused a message in strict mode"
    assert [m for m, _ in csms.calls("StartTransaction")] == [start_id]  # never sent again
    ((_, stop),) = csms.calls("StopTransaction")
    assert stop["transactionId"] == transaction_id
    assert {p["transactionId"] for _, p in csms.calls("MeterValues")} == {transaction_id}
    journal = Journal.open(workdir / "state" / "journal.db")
    try:
        ((sid, last_wh, booked),) = journal.query(
            "SELECT s.session_id, json_extract(s.state_json, '$.last_reading.energy_import_wh'), "
            "json_extract(s.state_json, '$.settlement.final_minor') "
            "FROM sessions s JOIN authorisations USING (session_id)"
        )
        started = journal.csms_started(sid)
    finally:
        journal.close()
    assert started is not None
    assert stop["meterStop"] == last_wh > start["meterStart"]
    assert stop["idTag"] == start["idTag"]
    assert booked > 0
