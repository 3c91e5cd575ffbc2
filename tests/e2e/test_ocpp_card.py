"""OCPP 2.1 against an independent CSMS (Node.js, ocpp-rpc in strict mode): a card session on
the ZVT terminal simulator and the Modbus meter simulators, reported as C18 (DirectPayment
idToken, hold as maxCost) and settled as C21, with every amount equal to the kiosk's journal;
a car that never draws (C20)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from drivers.station import BackendAccess
from kiosk.snapshot import BackToStart, ChooseConnector, ConfirmPrice, PayByCard
from tests.e2e.ocpp_rig import ocpp_kiosk, pay_and_charge
from tests.e2e.rig import Kiosk
from tests.ocpp.peer import Csms, require_peer

RECEIPTS = "https://csms.example/receipts/{pspRef}"


@pytest.fixture
def csms(tmp_path: Path) -> Any:
    require_peer()
    peer = Csms(tmp_path / "csms.jsonl", receipt_url=RECEIPTS).start()
    try:
        yield peer
    finally:
        peer.stop()


def _journal_money(k: Any, sid: str) -> tuple[int, int, str]:
    """(booked minor, hold minor, PspRef parts) as the kiosk's journal has them."""
    ((final, hold, terminal, trace, receipt),) = k.station.runtime.journal.query(
        "SELECT json_extract(s.state_json, '$.settlement.final_minor'), a.amount_minor, "
        "a.terminal_id, a.trace_no, a.receipt_no FROM sessions s JOIN authorisations a "
        "USING (session_id) WHERE s.session_id = ?",
        (sid,),
    )
    return int(final), int(hold), f"{terminal}-{trace}-{receipt}"


def _last_status(csms: Csms) -> str:
    return str(csms.calls("StatusNotification")[-1][1]["connectorStatus"])


def _receipt_url_shown(k: Kiosk) -> bool:
    k.idle()
    focus = k.snap.focus
    url = focus.receipt.receipt_url if focus is not None and focus.receipt is not None else None
    return url is not None and url.startswith(RECEIPTS.split("{", maxsplit=1)[0])


def _cents(minor: int) -> Decimal:
    return Decimal(minor) / 100


def test_card_session_c18_c21_every_message_valid_and_every_amount_the_journals(
    backend: object, access: BackendAccess, workdir: Path, csms: Csms
) -> None:
    with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, _link):
        sid = pay_and_charge(k, 600)
        csms.wait_for(lambda: len(csms.calls("NotifySettlement")) == 1)
        # The CSMS has the settlement; its answer (with the receipt address) is stored and
        # republished after that: wait for the screen to show it.
        csms.wait_for(lambda: _receipt_url_shown(k))
        focus = k.snap.focus
        assert focus is not None and focus.receipt is not None
        booked, hold, psp_ref = _journal_money(k, sid)
        receipt = focus.receipt
        k.send(BackToStart(sid))
        k.station.sims["1"].unplug()
        k.advance(3)
        csms.wait_for(lambda: _last_status(csms) == "Available")
    assert csms.errors() == [], "the CSMS refused a message in strict mode"
    actions = [p[0] for p in (m.frame[2:4] for m in csms.messages() if m.kind == 2)]
    assert actions[0] == "BootNotification"
    statuses = [p for _, p in csms.calls("StatusNotification")]
    assert {"Occupied", "Available"} <= {s["connectorStatus"] for s in statuses}
    events = [p for _, p in csms.calls("TransactionEvent")]
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert {e["transactionInfo"]["transactionId"] for e in events} == {sid}
    started, ended = events[0], events[-1]
    assert [e["eventType"] for e in events].count("Started") == 1
    assert [e["eventType"] for e in events].count("Ended") == 1
    assert started["eventType"] == "Started" and ended["eventType"] == "Ended"
    # C18: the terminal's reference as a DirectPayment token, the hold as the cost limit.
    assert started["idToken"]["type"] == "DirectPayment"
    assert started["idToken"]["idToken"] == psp_ref
    assert started["transactionInfo"]["transactionLimit"]["maxCost"] == _cents(hold) == 50
    for info in started["idToken"].get("additionalInfo", []):
        assert not re.search(r"\d{11,}", info["additionalIdToken"]), "an unmasked card number"
    periodic = [e for e in events if e["triggerReason"] == "MeterValuePeriodic"]
    assert len(periodic) >= 5
    assert all(e["costDetails"]["totalCost"]["currency"] == "EUR" for e in periodic)
    # I12 local cost and C21: the amount the journal booked, everywhere.
    assert booked == receipt.total.minor > 0
    assert ended["costDetails"]["totalCost"]["total"]["inclTax"] == _cents(booked)
    assert ended["meterValue"][0]["sampledValue"][0]["value"] == receipt.meter_end_wh
    assert ended["costDetails"]["totalUsage"]["energy"] == Decimal(receipt.energy_wh) / 1000
    ((_, settlement),) = csms.calls("NotifySettlement")
    assert settlement["status"] == "Settled"
    assert settlement["pspRef"] == psp_ref and settlement["transactionId"] == sid
    assert settlement["settlementAmount"] == _cents(booked)
    # The CSMS's receipt address is the receipt's QR code.
    assert receipt.receipt_url == RECEIPTS.replace("{pspRef}", psp_ref)


def test_car_that_never_draws_ends_at_zero_and_is_canceled_c20(
    backend: object, access: BackendAccess, workdir: Path, csms: Csms
) -> None:
    with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, _link):
        sim = k.station.sims["1"]
        sim.plug_in(soc=0.3)
        sim.model.set_ev(max_power_w=0)  # plugged in, never takes energy
        k.advance(2)
        k.send(ChooseConnector("1"))
        sid = k.focus_id()
        k.send(ConfirmPrice(sid))
        k.send(PayByCard(sid))
        k.advance(300, step=10)
        ((failure,),) = k.station.runtime.journal.query(
            "SELECT json_extract(state_json, '$.failure') FROM sessions WHERE session_id = ?",
            (sid,),
        )
        assert failure == "no_energy"
        csms.wait_for(lambda: len(csms.calls("NotifySettlement")) == 1)
        booked, _, psp_ref = _journal_money(k, sid)
    assert csms.errors() == []
    assert booked == 0
    events = [p for _, p in csms.calls("TransactionEvent")]
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert events[0]["eventType"] == "Started" and events[-1]["eventType"] == "Ended"
    assert events[-1]["costDetails"]["totalCost"]["total"]["inclTax"] == 0
    ((_, settlement),) = csms.calls("NotifySettlement")
    assert settlement["status"] == "Canceled" and settlement["settlementAmount"] == 0
    assert settlement["pspRef"] == psp_ref and settlement["transactionId"] == sid


def test_qr_session_is_reported_with_its_payment_link_as_the_token(
    backend: object, access: BackendAccess, workdir: Path, csms: Csms
) -> None:
    """A QR session paid on the backend's pay page (not C25's CSMS-driven QR yet): the same
    transaction events, the link id as the DirectPayment token, ended at the booked cost."""
    import httpx

    from kiosk.session.names import Phase
    from kiosk.snapshot import PayByQr, StopCharging

    with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, _link):
        k.station.sims["1"].plug_in(soc=0.3)
        k.advance(2)
        k.send(ChooseConnector("1"))
        sid = k.focus_id()
        k.send(ConfirmPrice(sid))
        k.send(PayByQr(sid))
        k.advance(1)
        focus = k.snap.focus
        assert focus is not None and focus.payment_link is not None
        form = {"card_number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"}
        httpx.post(focus.payment_link.url, data=form, timeout=30)
        for _ in range(30):
            k.advance(1)
            if k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING:
                break
        k.advance(300, step=10)
        k.send(StopCharging(sid))
        k.advance(5)
        csms.wait_for(lambda: k.station.runtime.journal.csms_queued() == 0)
        ((booked, link_id),) = k.station.runtime.journal.query(
            "SELECT json_extract(s.state_json, '$.settlement.final_minor'), a.link_id "
            "FROM sessions s JOIN authorisations a USING (session_id) WHERE s.session_id = ?",
            (sid,),
        )
    assert csms.errors() == []
    events = [p for _, p in csms.calls("TransactionEvent")]
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert events[0]["idToken"] == {"idToken": link_id, "type": "DirectPayment"}
    assert events[-1]["costDetails"]["totalCost"]["total"]["inclTax"] == _cents(booked)
    assert events[-1]["eventType"] == "Ended" and booked > 0
    # The backend captures a QR payment when the report arrives: no settlement from here.
    assert csms.calls("NotifySettlement") == []


def test_a_booking_the_terminal_refuses_is_rejected_once_and_the_hold_left_for_capture_c22(
    backend: object, access: BackendAccess, workdir: Path, csms: Csms
) -> None:
    """C22: the host declines the booking. The kiosk does not book again (asking would get the
    same answer), closes the session with the amount owed, tells the driver nothing was taken,
    reports the payment to the backend as authorised and not captured, and sends the CSMS one
    NotifySettlement Rejected with the amount it asked to book. The hold stays open at the
    terminal for the operator to capture with the pspRef."""
    from drivers.zvt_sim import Fault
    from kiosk.snapshot import MoneyOutcome

    with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, _link):
        terminal = k.station.terminal_sim
        assert terminal is not None
        terminal.inject(Fault.REFUSE_BOOKING)
        sid = pay_and_charge(k, 600)
        csms.wait_for(lambda: len(csms.calls("NotifySettlement")) == 1)
        focus = k.snap.focus
        assert focus is not None and focus.receipt is not None
        assert focus.receipt.money is MoneyOutcome.CHARGE_REFUSED
        owed, hold, psp_ref = _journal_money(k, sid)
        k.advance(120, step=10)  # nothing is asked or booked again
        ledger = terminal.ledger()
        k.send(BackToStart(sid))
        csms.wait_for(lambda: k.station.runtime.journal.csms_queued() == 0)
        ((payload,),) = k.station.runtime.journal.query(
            "SELECT payload_json FROM outbox WHERE kind = 'session'"
        )
    assert csms.errors() == [], "the CSMS refused a message in strict mode"
    assert owed == focus.receipt.total.minor > 0
    ((_, settlement),) = csms.calls("NotifySettlement")
    assert settlement["status"] == "Rejected" and settlement["pspRef"] == psp_ref
    assert settlement["settlementAmount"] == _cents(owed) and "refused" in settlement["statusInfo"]
    ended = [p for _, p in csms.calls("TransactionEvent")][-1]
    assert ended["eventType"] == "Ended"
    assert ended["costDetails"]["totalCost"]["total"]["inclTax"] == _cents(owed)
    assert ledger["booked"] == [] and len(ledger["open"]) == 1  # the hold, untouched
    (held,) = ledger["open"].values()
    assert held["amount_minor"] == hold
    # The backend is told the hold is authorised and not captured (drivers.backend_client.wire).
    report = json.loads(payload)
    assert report["final_minor"] == owed and report["settlement_confirmed"] is False
    assert report["money"] == "charge_refused"
