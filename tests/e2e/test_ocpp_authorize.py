"""PaymentCtrlr.AuthorizeDirectPayment against the independent CSMS (ocpp-rpc, strict mode):
the CSMS sets it with SetVariables; the next card payment is sent as Authorize with its
DirectPayment token after the terminal's pre-auth, and charging starts only once the CSMS
accepted it (C18). A refusal releases the hold at the terminal, tells the driver why and is
settled Canceled without a transaction (C19)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drivers.station import BackendAccess
from kiosk.session.names import FailureReason, MoneyOutcome, Phase
from kiosk.snapshot import ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.ocpp_rig import ocpp_kiosk
from tests.ocpp.peer import Csms, require_peer

SET_AUTHORIZE = (
    "SetVariables",
    {
        "setVariableData": [
            {
                "component": {"name": "PaymentCtrlr"},
                "variable": {"name": "AuthorizeDirectPayment"},
                "attributeValue": "true",
            }
        ]
    },
)


def _csms(tmp_path: Path, status: str) -> Csms:
    require_peer()
    return Csms(tmp_path / "csms.jsonl", after_boot=[SET_AUTHORIZE], authorize_status=status)


@pytest.fixture
def accepting(tmp_path: Path) -> Any:
    peer = _csms(tmp_path, "Accepted").start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def refusing(tmp_path: Path) -> Any:
    peer = _csms(tmp_path, "Invalid").start()
    try:
        yield peer
    finally:
        peer.stop()


def _pay(k: Any, csms: Csms) -> str:
    """Plug in and pay by card; wait (in real time: the fake clock stands still) until the
    CSMS's Authorize answer is in the session."""
    k.station.sims["1"].plug_in(soc=0.3)
    k.advance(2)
    k.send(ChooseConnector("1"))
    sid: str = k.focus_id()
    k.send(ConfirmPrice(sid))
    k.send(PayByCard(sid))

    def answered() -> bool:
        k.idle()
        session = k.station.runtime.station.session(sid)
        return session is None or session.csms_auth != "Pending"

    csms.wait_for(answered)
    k.advance(1)
    return sid


def _variable_set(csms: Csms) -> bool:
    done = [r for r in csms.results() if r.get("action") == "SetVariables"]
    return bool(done) and done[0]["result"]["setVariableResult"][0]["attributeStatus"] == "Accepted"


def test_a_payment_the_csms_accepts_is_authorized_before_the_transaction_starts(
    backend: object, access: BackendAccess, workdir: Path, accepting: Csms
) -> None:
    csms = accepting
    with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, _link):
        csms.wait_for(lambda: _variable_set(csms))
        sid = _pay(k, csms)
        k.advance(300, step=10)
        focus = k.snap.focus
        assert focus is not None and focus.phase is Phase.CHARGING
        k.send(StopCharging(sid))
        k.advance(5)
        csms.wait_for(lambda: len(csms.calls("NotifySettlement")) == 1)
        stored = k.station.runtime.journal.csms_variables()
        csms.wait_for(lambda: k.station.runtime.journal.csms_queued() == 0)
        k.idle()
        link_view = k.snap.csms  # the service menu's line
    assert link_view is not None and link_view.connected and link_view.version == "2.1"
    assert link_view.queued == 0 and link_view.last_error is None
    assert csms.errors() == [], "the CSMS refused a message in strict mode"
    assert stored[("PaymentCtrlr", "AuthorizeDirectPayment")] == "true"
    actions = [a for a in (m.frame[2] for m in csms.messages() if m.kind == 2 and not m.outbound)]
    assert actions.index("Authorize") < actions.index("TransactionEvent")
    ((_, authorize),) = csms.calls("Authorize")
    started = csms.calls("TransactionEvent")[0][1]
    assert authorize["idToken"] == started["idToken"]
    assert authorize["idToken"]["type"] == "DirectPayment"
    assert started["transactionInfo"]["transactionId"] == sid
    ((_, settlement),) = csms.calls("NotifySettlement")
    assert settlement["status"] == "Settled" and settlement["transactionId"] == sid


def test_a_payment_the_csms_refuses_is_released_and_canceled_without_a_transaction_c19(
    backend: object, access: BackendAccess, workdir: Path, refusing: Csms
) -> None:
    csms = refusing
    with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, _link):
        csms.wait_for(lambda: _variable_set(csms))
        sid = _pay(k, csms)
        k.advance(5)
        focus = k.snap.focus
        assert focus is not None and focus.failure is not None
        assert focus.failure.reason is FailureReason.OPERATOR_REFUSED
        assert focus.failure.money is MoneyOutcome.HOLD_RELEASED
        csms.wait_for(lambda: len(csms.calls("NotifySettlement")) == 1)
        terminal = k.station.terminal_sim
        assert terminal is not None
        ledger = terminal.ledger()
        ((started_at,),) = k.station.runtime.journal.query(
            "SELECT json_extract(state_json, '$.started_at') FROM sessions WHERE session_id = ?",
            (sid,),
        )
    assert started_at is None  # charging was never switched on
    assert csms.errors() == [], "the CSMS refused a message in strict mode"
    assert csms.calls("TransactionEvent") == []  # no transaction was ever started
    ((_, settlement),) = csms.calls("NotifySettlement")
    assert settlement["status"] == "Canceled" and settlement["settlementAmount"] == 0
    assert "transactionId" not in settlement and "Invalid" in settlement["statusInfo"]
    assert ledger["open"] == {} and ledger["booked"] == []
    assert len(ledger["reversed"]) == 1  # the hold, released in full
