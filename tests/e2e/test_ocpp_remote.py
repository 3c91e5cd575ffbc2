"""Calls from the CSMS during a card session, strict on both sides: RequestStopTransaction ends
the charging as the Stop button does (and the money settles as usual); a start, a reset or a
stop for an unknown transaction are refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from drivers.station import BackendAccess
from kiosk.session.names import Phase
from kiosk.snapshot import ChooseConnector, ConfirmPrice, PayByCard
from tests.e2e.ocpp_rig import ocpp_kiosk
from tests.e2e.rig import Kiosk
from tests.ocpp.peer import Csms, require_peer

START = {"idToken": {"idToken": "X", "type": "Central"}, "remoteStartId": 1, "evseId": 1}
SCRIPT = [
    ("RequestStartTransaction", START),
    ("Reset", {"type": "OnIdle"}),
    ("@wait", {"action": "TransactionEvent", "count": 4}),
    ("RequestStopTransaction", {"transactionId": "$transactionId"}),
    ("RequestStopTransaction", {"transactionId": "no-such-transaction"}),
]


def stop_accepted(csms: Csms) -> bool:
    return any(r.get("result", {}).get("status") == "Accepted" for r in csms.results())


def charge_until(k: Kiosk, done: Callable[[], bool], *, limit_s: int, step: int = 10) -> None:
    """Move the station's clock on in steps until `done`; the CSMS answers in real time, so
    each step also waits briefly for it (bounded), never a fixed sleep."""
    moved = 0
    deadline = time.monotonic() + 120
    while not done():
        assert time.monotonic() < deadline, "the station never got there"
        if moved < limit_s:
            k.advance(step, step=step)
            moved += step
        else:
            time.sleep(0.05)


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
            # The CSMS stops the session once it has seen four TransactionEvents; the charging
            # clock moves on only until then, so the receipt is not timed out behind our back.
            charge_until(k, lambda: stop_accepted(csms), limit_s=600)
            charge_until(
                k,
                lambda: k.snap.focus is not None and k.snap.focus.phase is Phase.RECEIPT,
                limit_s=60,
                step=1,
            )
            csms.wait_for(lambda: len(csms.results()) == 4)
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
    assert events[-1]["triggerReason"] == "RemoteStop"
    assert events[-1]["transactionInfo"]["stoppedReason"] == "Remote"
    ((_, settled),) = csms.calls("NotifySettlement")
    assert settled["status"] == "Settled" and settled["settlementAmount"] > 0
