"""OCPP 1.6J and 2.0.1 against the independent CSMS (Node.js, ocpp-rpc strict mode on the
official schemas of each version): the station offers every version, the CSMS accepts only
one, and a card session on the ZVT terminal simulator and Modbus simulators is reported in that
version with every message valid and every meter value the journal's."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from drivers.station import BackendAccess
from kiosk.snapshot import BackToStart
from tests.e2e.ocpp_rig import ocpp_kiosk, pay_and_charge
from tests.e2e.rig import Kiosk
from tests.e2e.test_ocpp_remote import charge_until
from tests.ocpp.peer import Csms, require_peer

ALL = ("2.1", "2.0.1", "1.6")


def _journal(k: Kiosk, sid: str) -> tuple[int, str, set[int]]:
    """(booked minor, the terminal's reference, every meter reading of the session)."""
    journal = k.station.runtime.journal
    ((final, terminal, trace, receipt),) = journal.query(
        "SELECT json_extract(s.state_json, '$.settlement.final_minor'), a.terminal_id, "
        "a.trace_no, a.receipt_no FROM sessions s JOIN authorisations a USING (session_id) "
        "WHERE s.session_id = ?",
        (sid,),
    )
    rows = journal.query("SELECT energy_wh FROM readings WHERE session_id = ?", (sid,))
    return int(final), f"{terminal}-{trace}-{receipt}", {int(r[0]) for r in rows}


def _answer(csms: Csms, message_id: str) -> dict[str, Any]:
    (answer,) = [
        m.frame[2] for m in csms.messages() if m.outbound and m.frame[:2] == [3, message_id]
    ]
    return dict(answer)


def _finish(k: Kiosk, csms: Csms, sid: str, available: str = "Available") -> None:
    """Back to start, unplug, and wait until the CSMS has heard everything."""
    k.send(BackToStart(sid))
    k.station.sims["1"].unplug()
    k.advance(3)
    csms.wait_for(lambda: k.station.runtime.journal.csms_queued() == 0)
    key = "status" if csms.protocols == ("ocpp1.6",) else "connectorStatus"
    csms.wait_for(lambda: csms.calls("StatusNotification")[-1][1][key] == available)


def test_card_session_under_16_start_meter_values_stop_with_the_csms_transaction_id(
    backend: object, access: BackendAccess, workdir: Path, tmp_path: Path
) -> None:
    require_peer()
    remote_start = ("RemoteStartTransaction", {"idTag": "CSMS-TAG-1", "connectorId": 1})
    csms = Csms(tmp_path / "csms.jsonl", protocols=("ocpp1.6",), after_boot=[remote_start])
    csms.start()
    try:
        with ocpp_kiosk(workdir, access, csms.url, hold=5000, versions=ALL) as (k, link):
            csms.wait_for(lambda: link.accepted)
            sid = pay_and_charge(k, 600)
            focus = k.snap.focus
            assert focus is not None and focus.receipt is not None
            receipt = focus.receipt
            booked, reference, readings = _journal(k, sid)
            _finish(k, csms, sid)
            skipped = k.station.runtime.journal.query(
                "SELECT answer_json FROM ocpp_queue WHERE action = 'NotifySettlement'"
            )
    finally:
        csms.stop()
    assert csms.errors() == [], "the CSMS refused a message in strict mode"
    assert {m.protocol for m in csms.messages()} == {"ocpp1.6"}
    ((_, boot),) = csms.calls("BootNotification")
    assert boot["chargePointVendor"] == "evkiosk"
    assert [r["result"]["status"] for r in csms.results()] == ["Rejected"]  # remote start
    assert csms.calls("TransactionEvent") == [] and csms.calls("NotifySettlement") == []
    assert skipped == [('{"notSent": "NotifySettlement is OCPP 2.1 only"}',)]
    # The terminal's reference is the idTag, authorised and then the transaction's.
    assert len(reference) <= 20
    ((_, authorize),) = csms.calls("Authorize")
    assert authorize == {"idTag": reference}
    ((start_id, start),) = csms.calls("StartTransaction")
    assert start["idTag"] == reference and start["connectorId"] == 1
    assert start["meterStart"] == receipt.meter_start_wh
    transaction_id = _answer(csms, start_id)["transactionId"]
    meter = [p for _, p in csms.calls("MeterValues")]
    assert len(meter) >= 5
    assert {p["transactionId"] for p in meter} == {transaction_id}
    values = [int(p["meterValue"][0]["sampledValue"][0]["value"]) for p in meter]
    assert values == sorted(values) and set(values) <= readings
    assert {p["meterValue"][0]["sampledValue"][0]["measurand"] for p in meter} == {
        "Energy.Active.Import.Register"
    }
    ((_, stop),) = csms.calls("StopTransaction")
    assert stop["transactionId"] == transaction_id and stop["reason"] == "Local"
    assert stop["meterStop"] == receipt.meter_end_wh
    assert stop["meterStop"] - start["meterStart"] == receipt.energy_wh > 0
    assert booked == receipt.total.minor > 0  # the money stayed local
    statuses = [p["status"] for _, p in csms.calls("StatusNotification")]
    assert {"Available", "Preparing", "Charging"} <= set(statuses)
    assert all(p["errorCode"] == "NoError" for _, p in csms.calls("StatusNotification"))


def test_remote_stop_under_16_stops_like_the_stop_button(
    backend: object, access: BackendAccess, workdir: Path, tmp_path: Path
) -> None:
    require_peer()
    script = [
        ("GetConfiguration", {"key": ["StopTransactionOnInvalidId", "NoSuchKey"]}),
        ("ChangeConfiguration", {"key": "StopTransactionOnInvalidId", "value": "true"}),
        ("ChangeConfiguration", {"key": "NoSuchKey", "value": "1"}),
        ("@wait", {"action": "MeterValues", "count": 3}),
        ("RemoteStopTransaction", {"transactionId": "$transactionId"}),
        ("RemoteStopTransaction", {"transactionId": 999_999}),
    ]
    csms = Csms(tmp_path / "csms.jsonl", protocols=("ocpp1.6",), after_boot=script).start()
    try:
        with ocpp_kiosk(workdir, access, csms.url, hold=5000, versions=ALL) as (k, link):
            csms.wait_for(lambda: link.accepted)
            from kiosk.session.names import Phase
            from kiosk.snapshot import ChooseConnector, ConfirmPrice, PayByCard

            k.station.sims["1"].plug_in(soc=0.3)
            k.advance(2)
            k.send(ChooseConnector("1"))
            sid = k.focus_id()
            k.send(ConfirmPrice(sid))
            k.send(PayByCard(sid))
            charge_until(k, lambda: len(csms.results()) >= 4, limit_s=900)
            charge_until(
                k,
                lambda: k.snap.focus is not None and k.snap.focus.phase is Phase.RECEIPT,
                limit_s=60,
                step=1,
            )
            csms.wait_for(lambda: len(csms.results()) == 5)
            csms.wait_for(lambda: len(csms.calls("StopTransaction")) == 1)
            stop_reason = k.station.runtime.journal.query(
                "SELECT json_extract(state_json, '$.stop_reason') FROM sessions "
                "WHERE session_id = ?",
                (sid,),
            )
    finally:
        csms.stop()
    assert csms.errors() == []
    configuration, *changes = (r["result"] for r in csms.results()[:3])
    assert configuration == {
        "configurationKey": [
            {"key": "StopTransactionOnInvalidId", "readonly": True, "value": "false"}
        ],
        "unknownKey": ["NoSuchKey"],
    }
    assert [c["status"] for c in changes] == ["Rejected", "NotSupported"]
    assert [r["result"]["status"] for r in csms.results()[3:]] == ["Accepted", "Rejected"]
    ((start_id, _),) = csms.calls("StartTransaction")
    ((_, stop),) = csms.calls("StopTransaction")
    assert stop["transactionId"] == _answer(csms, start_id)["transactionId"]
    assert stop["reason"] == "Remote"  # stopped as the Stop button does, and said so
    assert stop_reason == [("driver",)]


def test_card_session_under_201_transaction_events_without_21_fields(
    backend: object, access: BackendAccess, workdir: Path, tmp_path: Path
) -> None:
    require_peer()
    script = [
        ("@wait", {"action": "TransactionEvent", "count": 3}),
        ("CostUpdated", {"totalCost": 1.23, "transactionId": "$transactionId"}),
    ]
    csms = Csms(tmp_path / "csms.jsonl", protocols=("ocpp2.0.1",), after_boot=script).start()
    try:
        with ocpp_kiosk(workdir, access, csms.url, hold=5000, versions=ALL) as (k, link):
            csms.wait_for(lambda: link.accepted)
            sid = pay_and_charge(k, 600)
            focus = k.snap.focus
            assert focus is not None and focus.receipt is not None
            receipt = focus.receipt
            booked, reference, readings = _journal(k, sid)
            _finish(k, csms, sid)
    finally:
        csms.stop()
    assert csms.errors() == [], "the CSMS refused a message in strict mode"
    assert {m.protocol for m in csms.messages()} == {"ocpp2.0.1"}
    assert [r["event"] for r in csms.results()] == ["call-result"]  # CostUpdated answered
    assert csms.calls("NotifySettlement") == []
    events = [p for _, p in csms.calls("TransactionEvent")]
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert {e["transactionInfo"]["transactionId"] for e in events} == {sid}
    kinds = [e["eventType"] for e in events]
    assert kinds[0] == "Started" and kinds[-1] == "Ended" and kinds.count("Ended") == 1
    started, ended = events[0], events[-1]
    assert started["idToken"]["idToken"] == reference and started["idToken"]["type"] == "Local"
    assert all("costDetails" not in e for e in events)
    assert "transactionLimit" not in started["transactionInfo"]
    samples = [e["meterValue"][0]["sampledValue"][0]["value"] for e in events if "meterValue" in e]
    assert len(samples) >= 6 and set(samples) <= readings | {receipt.meter_start_wh}
    assert started["meterValue"][0]["sampledValue"][0]["value"] == receipt.meter_start_wh
    assert ended["meterValue"][0]["sampledValue"][0]["value"] == receipt.meter_end_wh
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert booked == receipt.total.minor > 0
    assert Decimal(receipt.energy_wh) > 0
