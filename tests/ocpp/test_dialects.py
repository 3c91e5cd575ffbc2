"""What a queued OCPP 2.1 row becomes under 2.0.1 and 1.6 (drivers/ocpp/v201.py, v16.py), each
result valid against the `ocpp` package's schemas of that version; the 1.6 transactionId the
CSMS gave is read back from the journal after a reopen."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from ocpp.messages import Call, validate_payload

from drivers.ocpp.v16 import id_tag, meter_values, start_transaction, stop_transaction
from drivers.ocpp.v201 import transaction_event
from kiosk.journal.csms_feed import wire_json
from kiosk.journal.store import Journal
from tests.ocpp.test_queue import queue, tx

SID = "9a2d7a17ec4b45d1ba3e9778f4859ded"
AT = "2026-05-04T10:00:00+00:00"


def reading(wh: int, context: str) -> dict[str, Any]:
    sample = {
        "value": wh,
        "measurand": "Energy.Active.Import.Register",
        "context": context,
        "unitOfMeasure": {"unit": "Wh"},
    }
    return {"timestamp": AT, "sampledValue": [sample]}


STARTED: dict[str, Any] = {
    "eventType": "Started",
    "timestamp": AT,
    "triggerReason": "Authorized",
    "seqNo": 0,
    "transactionInfo": {
        "transactionId": SID,
        "chargingState": "EVConnected",
        "transactionLimit": {"maxCost": Decimal("50.00")},
        "tariffId": "CSMS-T1",
    },
    "evse": {"id": 2, "connectorId": 1},
    "idToken": {
        "idToken": "29001234-123456-0042",
        "type": "DirectPayment",
        "additionalInfo": [{"additionalIdToken": "411111******1111", "type": "MaskedPAN"}],
    },
    "meterValue": [reading(1000, "Transaction.Begin")],
}
ENDED: dict[str, Any] = {
    "eventType": "Ended",
    "timestamp": AT,
    "triggerReason": "CostLimitReached",
    "seqNo": 7,
    "transactionInfo": {
        "transactionId": SID,
        "chargingState": "EVConnected",
        "stoppedReason": "LocalOutOfCredit",
    },
    "costDetails": {"totalCost": {"currency": "EUR", "typeOfCost": "NormalCost", "total": {}}},
    "meterValue": [reading(5230, "Transaction.End")],
}


def valid(action: str, payload: dict[str, Any], version: str) -> None:
    asyncio.run(validate_payload(Call("m-1", action, json.loads(wire_json(payload))), version))


def test_201_drops_what_only_21_has_and_reports_the_reference_as_a_local_token() -> None:
    started = json.loads(transaction_event(wire_json(STARTED)))
    ended = json.loads(transaction_event(wire_json(ENDED)))
    assert started["idToken"] == {
        "idToken": "29001234-123456-0042",
        "type": "Local",
        "additionalInfo": [{"additionalIdToken": "411111******1111", "type": "MaskedPAN"}],
    }
    assert "transactionLimit" not in started["transactionInfo"]
    assert "tariffId" not in started["transactionInfo"]
    assert "costDetails" not in ended and ended["triggerReason"] == "Deauthorized"
    assert ended["transactionInfo"]["stoppedReason"] == "LocalOutOfCredit"
    for payload in (started, ended):
        valid("TransactionEvent", payload, "2.0.1")


def test_16_start_meter_values_and_stop_carry_the_reference_and_the_csms_id() -> None:
    start = start_transaction(json.loads(wire_json(STARTED)))
    assert start == {
        "connectorId": 2,
        "idTag": "29001234-123456-0042",
        "meterStart": 1000,
        "timestamp": AT,
    }
    periodic = {"meterValue": [reading(3000, "Sample.Periodic")]}
    values = meter_values(periodic, STARTED, 17)
    assert values["transactionId"] == 17 and values["connectorId"] == 2
    assert values["meterValue"][0]["sampledValue"][0]["value"] == "3000"
    stop = stop_transaction(json.loads(wire_json(ENDED)), STARTED, 17)
    assert stop["transactionId"] == 17 and stop["meterStop"] == 5230
    assert stop["reason"] == "Other"  # 1.6 has no "out of credit"
    without_reading = {k: v for k, v in ENDED.items() if k != "meterValue"}
    assert stop_transaction(without_reading, STARTED, 17)["meterStop"] == 1000
    valid("StartTransaction", start, "1.6")
    valid("MeterValues", values, "1.6")
    valid("StopTransaction", stop, "1.6")


def test_16_id_tag_is_the_reference_or_its_last_20_characters() -> None:
    assert id_tag("29001234-123456-0042") == "29001234-123456-0042"
    assert id_tag("lnk_0123456789abcdefghijKLMN") == "456789abcdefghijKLMN"


def test_the_csms_transaction_id_is_kept_with_the_start_across_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    journal = Journal.open(path)
    queue(journal, [tx("started", SID, eventType="Started"), tx("ended", SID, eventType="Ended")])
    start_row, _ = journal.csms_pending()
    assert journal.csms_started(SID) == (start_row.payload_json, None)
    journal.csms_sent(start_row.id, {"transactionId": 17, "idTagInfo": {"status": "Accepted"}})
    journal.close()
    journal = Journal.open(path)  # as after a kill -9: what was committed is all there is
    try:
        started = journal.csms_started(SID)
        assert started is not None and json.loads(started[1] or "{}")["transactionId"] == 17
        assert journal.csms_session_of_v16(17) == SID
        assert journal.csms_session_of_v16(18) is None
        assert journal.csms_started("other") is None
    finally:
        journal.close()
