"""The CSMS goes down in the middle of a session and comes back after it ended: every
TransactionEvent reaches it once (a resend carries the same message id), in order, seqNo
continuous, and the settlement after them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.station import BackendAccess
from kiosk.session.names import Phase
from kiosk.snapshot import ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.ocpp_rig import ocpp_kiosk
from tests.ocpp.peer import Csms, require_peer


@pytest.fixture
def csms(tmp_path: Path) -> Iterator[Csms]:
    require_peer()
    peer = Csms(tmp_path / "csms.jsonl").start()
    try:
        yield peer
    finally:
        peer.stop()


def delivered_once_in_order(csms: Csms, sid: str) -> list[dict[str, object]]:
    """The TransactionEvents as the CSMS keeps them (a resend of a message id counts once),
    after checking that a resend is the same message."""
    first: dict[str, dict[str, object]] = {}
    order: list[str] = []
    for message_id, payload in csms.calls("TransactionEvent"):
        if message_id in first:
            assert first[message_id] == payload, "a resend changed the message"
            continue
        first[message_id] = payload
        order.append(message_id)
    events = [first[m] for m in order]
    assert {e["transactionInfo"]["transactionId"] for e in events} == {sid}  # type: ignore[index]
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    return events


def test_csms_down_mid_session_then_back_gets_every_event_once_in_order(
    backend: object, access: BackendAccess, workdir: Path, csms: Csms
) -> None:
    with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, link):
        csms.wait_for(lambda: link.accepted)
        sim = k.station.sims["1"]
        sim.plug_in(soc=0.3)
        k.advance(2)
        k.send(ChooseConnector("1"))
        sid = k.focus_id()
        k.send(ConfirmPrice(sid))
        k.send(PayByCard(sid))
        k.advance(120, step=10)
        csms.wait_for(lambda: len(csms.calls("TransactionEvent")) >= 2)
        csms.stop()  # the operator's CSMS is gone for the rest of the session
        k.advance(900, step=10)
        k.send(StopCharging(sid))
        k.advance(5)
        assert k.snap.focus is not None and k.snap.focus.phase is Phase.RECEIPT
        queued = k.station.runtime.journal.csms_queued()
        assert queued >= 10  # the periodic meter values, Ended and the settlement, kept
        assert not link.accepted
        csms.start()  # back, on the same address
        csms.wait_for(lambda: k.station.runtime.journal.csms_queued() == 0)
    assert csms.errors() == []
    assert len(csms.calls("BootNotification")) == 2
    events = delivered_once_in_order(csms, sid)
    assert events[0]["eventType"] == "Started" and events[-1]["eventType"] == "Ended"
    assert [e["eventType"] for e in events].count("Ended") == 1
    # What happened while the CSMS was away says so; what it saw live does not.
    assert "offline" not in events[0] and events[-1]["offline"] is True
    arrival = [m for m, _ in csms.calls()]
    settle_id = csms.calls("NotifySettlement")[0][0]
    assert arrival.index(settle_id) > max(
        arrival.index(m) for m, _ in csms.calls("TransactionEvent")
    )
