"""OCPP 2.0.1: the 2.1 transaction flow without what only 2.1 has.

The cost is the CSMS's (central cost, I01–I06); payment stays local. So a queued 2.1
TransactionEvent keeps only the fields 2.0.1 has (no `costDetails`, `tariffId`,
`transactionLimit`), its DirectPayment idToken (C18, 2.1 only) becomes type `Local` with the
same reference, and NotifySettlement (2.1 only) is not sent. A CostUpdated from the CSMS is
answered and logged: the driver pays the kiosk's own price, at the terminal, so the CSMS's
running cost is not shown as the amount due.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

from ocpp.routing import on
from ocpp.v201 import call_result

from drivers.ocpp.dialect import Dialect, Payload, not_sent
from drivers.ocpp.peer import StationPeer
from kiosk.journal.csms_feed import wire_json
from kiosk.journal.csms_queue import QueuedCsmsCall
from kiosk.journal.store import Journal

log = logging.getLogger(__name__)

# TriggerReasonEnumType values that 2.0.1 does not have, and the nearest one it has.
_TRIGGERS = {"CostLimitReached": "Deauthorized"}
_TOKEN_MAX = 36  # IdTokenType.idToken and additionalIdToken in 2.0.1
# The fields 2.0.1 has (its schemas allow no others): what 2.1 added (costDetails, tariffId,
# transactionLimit, operationMode, …) is left out by naming what is kept.
_EVENT_FIELDS = frozenset(
    {
        "eventType", "timestamp", "triggerReason", "seqNo", "offline", "numberOfPhasesUsed",
        "cableMaxCurrent", "reservationId", "transactionInfo", "idToken", "evse", "meterValue",
        "customData",
    }
)  # fmt: skip
_TRANSACTION_FIELDS = frozenset(
    {
        "transactionId", "chargingState", "timeSpentCharging", "stoppedReason", "remoteStartId",
        "customData",
    }
)  # fmt: skip


class StationPeer201(StationPeer):
    _ocpp_version = "2.0.1"

    @on("CostUpdated")  # type: ignore[untyped-decorator]
    def on_cost_updated(self, total_cost: float, transaction_id: str, **_: Any) -> Any:
        exact = Decimal(str(self._exact_payload()["totalCost"]))
        log.info(
            "csms: CostUpdated %s for transaction %s (shown as the operator's figure; the "
            "driver pays the station's own price)",
            exact,
            transaction_id,
        )
        if self.operator is not None:
            self.operator(transaction_id, exact, None)
        return call_result.CostUpdated()

    @on("SetDisplayMessage")  # type: ignore[untyped-decorator]
    def on_set_display_message(self, message: dict[str, Any], **_: Any) -> Any:
        """A message for a running transaction (the operator's tariff or cost text, I01) is
        shown on its charging screen; station-wide messages are not shown here."""
        transaction_id = message.get("transaction_id")
        content = str(message.get("message", {}).get("content", ""))
        if transaction_id is None or self.operator is None:
            return call_result.SetDisplayMessage(status="Rejected")
        if self.running(transaction_id) is None:
            return call_result.SetDisplayMessage(status="UnknownTransaction")
        self.operator(transaction_id, None, content)
        return call_result.SetDisplayMessage(status="Accepted")


def transaction_event(payload_json: str) -> str:
    """A queued 2.1 TransactionEvent as 2.0.1 (amounts stay exact decimals)."""
    payload: Payload = json.loads(payload_json, parse_float=Decimal)
    payload = {k: v for k, v in payload.items() if k in _EVENT_FIELDS}
    info = payload["transactionInfo"]
    payload["transactionInfo"] = {k: v for k, v in info.items() if k in _TRANSACTION_FIELDS}
    payload["triggerReason"] = _TRIGGERS.get(payload["triggerReason"], payload["triggerReason"])
    token = payload.get("idToken")
    if token is not None:
        payload["idToken"] = id_token(token)
    return wire_json(payload)


def id_token(token: Payload) -> Payload:
    """DirectPayment (2.1) → Local: the terminal's reference, decided here, not by the CSMS."""
    out: Payload = {"idToken": str(token["idToken"])[-_TOKEN_MAX:], "type": "Local"}
    if token.get("type") != "DirectPayment":
        out["type"] = token["type"]
    info = [
        {"additionalIdToken": str(i["additionalIdToken"])[:_TOKEN_MAX], "type": i["type"]}
        for i in token.get("additionalInfo", [])
    ]
    if info:
        out["additionalInfo"] = info
    return out


class Ocpp201(Dialect):
    version = "2.0.1"
    peer_class = StationPeer201

    async def send(self, peer: StationPeer, row: QueuedCsmsCall, journal: Journal) -> object:
        if row.action == "NotifySettlement":
            return not_sent("NotifySettlement is OCPP 2.1 only")
        payload_json = row.payload_json
        if row.action == "TransactionEvent":
            payload_json = transaction_event(payload_json)
        answer = await peer.call_json(row.action, payload_json, row.message_id)
        if row.action == "TransactionEvent" and peer.operator is not None:
            _operator_figure(peer, row, answer)
        return answer


def _operator_figure(peer: StationPeer, row: QueuedCsmsCall, answer: Payload) -> None:
    """I02/I03: the running total cost and the text the CSMS answered a TransactionEvent with."""
    total = answer.get("totalCost")
    message = answer.get("updatedPersonalMessage") or {}
    text = message.get("content") if isinstance(message, dict) else None
    if (total is not None or text) and row.transaction_id is not None and peer.operator:
        peer.operator(
            row.transaction_id, None if total is None else Decimal(str(total)), text or None
        )
