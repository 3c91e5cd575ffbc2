"""Calls from the CSMS during a card session, strict on both sides: RequestStopTransaction ends
the charging as the Stop button does (and the money settles as usual); a start, a reset or a
stop for an unknown transaction are refused."""

from __future__ import annotations

from pathlib import Path

from drivers.station import BackendAccess
from kiosk.session.names import Phase
from kiosk.snapshot import ChooseConnector, ConfirmPrice, PayByCard
from tests.e2e.ocpp_rig import ocpp_kiosk
from tests.ocpp.peer import Csms, require_peer

START = {"idToken": {"idToken": "X", "type": "Central"}, "remoteStartId": 1, "evseId": 1}
SCRIPT = [
    ("RequestStartTransaction", START),
    ("Reset", {"type": "OnIdle"}),
    ("@wait", {"action": "TransactionEvent", "count": 4}),
    ("RequestStopTransaction", {"transactionId": "$transactionId"}),
    ("RequestStopTransaction", {"transactionId": "no-such-transaction"}),
]


def test_remote_stop_ends_the_session_and_the_rest_is_refused(
    backend: object, access: BackendAccess, workdir: Path, tmp_path: Path
) -> None:
    require_peer()
    csms = Csms(tmp_path / "csms.jsonl", after_boot=SCRIPT).start()
    try:
        with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, _link):
            k.station.sims["1"].plug_in(soc=0.3)
            k.advance(2)
            k.send(ChooseConnector("1"))
            sid = k.focus_id()
            k.send(ConfirmPrice(sid))
            k.send(PayByCard(sid))
            k.advance(300, step=10)
            csms.wait_for(lambda: len(csms.results()) == 4)
            k.advance(5)
            assert k.snap.focus is not None and k.snap.focus.phase is Phase.RECEIPT
            csms.wait_for(lambda: len(csms.calls("NotifySettlement")) == 1)
    finally:
        csms.stop()
    assert csms.errors() == []
    results = csms.results()
    assert [r["event"] for r in results] == ["call-result"] * 4, results
    assert [r["result"]["status"] for r in results] == [
        "Rejected",
        "Rejected",
        "Accepted",
        "Rejected",
    ]
    events = [p for _, p in csms.calls("TransactionEvent")]
    assert events[-1]["eventType"] == "Ended"
    assert events[-1]["transactionInfo"]["transactionId"] == sid
    ((_, settled),) = csms.calls("NotifySettlement")
    assert settled["status"] == "Settled" and settled["settlementAmount"] > 0
