"""OCPP 1.6J core profile: the queued 2.1 transaction rows as StartTransaction, MeterValues and
StopTransaction, translated when they are sent.

1.6 has no payment messages: payment stays local (terminal and our backend). The transaction
is reported with the terminal's reference as idTag (`id_tag`: at most 20 characters). The CSMS
gives the transactionId in its answer to StartTransaction; that answer is journaled with the
row (in the same SQLite transaction that marks it sent), and every later MeterValues and the
StopTransaction of the session read it from there when they are sent. So a Stop queued while
the CSMS was away, or across a kill -9, goes out with the id the CSMS gave, after the Start.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

from ocpp.routing import on
from ocpp.v16 import call_result

from drivers.ocpp.dialect import Dialect, Payload, not_sent
from drivers.ocpp.peer import CsmsRefused, StationPeer
from drivers.ocpp.reset import busy as reset_busy
from kiosk.journal.csms_queue import QueuedCsmsCall
from kiosk.journal.store import Journal
from kiosk.snapshot import ConnectorStatus

log = logging.getLogger(__name__)

ID_TAG_MAX = 20
_STATUS = {
    ConnectorStatus.AVAILABLE: "Available",
    ConnectorStatus.PREPARING: "Preparing",
    ConnectorStatus.CHARGING: "Charging",
    ConnectorStatus.SUSPENDED_EV: "SuspendedEV",
    ConnectorStatus.FINISHING: "Finishing",
    ConnectorStatus.OCCUPIED: "Preparing",  # 1.6: a cable plugged in, no transaction (yet)
    ConnectorStatus.UNAVAILABLE: "Unavailable",
    ConnectorStatus.FAULTED: "Faulted",
}
# transactionInfo.stoppedReason (2.1) -> StopTransaction.reason (1.6)
_REASONS = {
    "Local": "Local",
    "EVDisconnected": "EVDisconnected",
    "EmergencyStop": "EmergencyStop",
    "Reboot": "Reboot",
    "Remote": "Remote",
    "DeAuthorized": "DeAuthorized",
}

# GetConfiguration: how the station behaves, read-only (ChangeConfiguration: Rejected; a key
# not listed: NotSupported).
CONFIGURATION = {
    "SupportedFeatureProfiles": "Core,RemoteTrigger",
    "LocalAuthorizeOffline": "false",
    "LocalPreAuthorize": "false",
    "StopTransactionOnInvalidId": "false",  # the charge was paid at the terminal
    "MeterValuesSampledData": "Energy.Active.Import.Register",
    "StopTxnSampledData": "Energy.Active.Import.Register",
    "ConnectorPhaseRotation": "NotApplicable",
}


def id_tag(reference: str) -> str:
    """The terminal's reference (`<terminal id>-<trace>-<receipt no>`: 8 + 6 + 4 digits, at
    most 20 characters) as it is; a longer one (a QR payment's link id) by its last 20."""
    return reference[-ID_TAG_MAX:]


class StationPeer16(StationPeer):
    _ocpp_version = "1.6"

    @on("RemoteStartTransaction")  # type: ignore[untyped-decorator]
    def on_remote_start_transaction(self, id_tag: str, **_: Any) -> Any:
        # A transaction starts when the driver's card paid at the terminal; a CSMS's idTag
        # pays nothing here.
        log.info("csms: RemoteStartTransaction refused: payment is at the station's terminal")
        return call_result.RemoteStartTransaction(status="Rejected")

    @on("RemoteStopTransaction")  # type: ignore[untyped-decorator]
    def on_remote_stop_transaction(self, transaction_id: int, **_: Any) -> Any:
        session_id = None
        if self.model is not None:
            session_id = self.model.journal.csms_session_of_v16(transaction_id)
        done = (
            session_id is not None and self.remote_stop is not None and self.remote_stop(session_id)
        )
        return call_result.RemoteStopTransaction(status="Accepted" if done else "Rejected")

    @on("Reset")  # type: ignore[untyped-decorator]
    def on_reset(self, type: str, **_: Any) -> Any:
        # 1.6 has no Scheduled: a reset while a session holds money is Rejected.
        if self.reset is None or reset_busy(self.reset.station()):
            return call_result.Reset(status="Rejected")
        status, _reason = self.reset.request(type, None)
        return call_result.Reset(status="Accepted" if status == "Accepted" else "Rejected")

    @on("GetConfiguration")  # type: ignore[untyped-decorator]
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        asked = key or list(CONFIGURATION)
        known = [
            {"key": k, "readonly": True, "value": CONFIGURATION[k]}
            for k in asked
            if k in CONFIGURATION
        ]
        unknown = [k for k in asked if k not in CONFIGURATION]
        return call_result.GetConfiguration(
            configuration_key=known or None, unknown_key=unknown or None
        )

    @on("ChangeConfiguration")  # type: ignore[untyped-decorator]
    def on_change_configuration(self, key: str, value: str, **_: Any) -> Any:
        return call_result.ChangeConfiguration(
            status="Rejected" if key in CONFIGURATION else "NotSupported"
        )


def meter_value(reading: Payload) -> Payload:
    """A 2.1 MeterValueType as 1.6's (the value is a string there)."""
    return {
        "timestamp": reading["timestamp"],
        "sampledValue": [
            {
                "value": str(s["value"]),
                "context": s["context"],
                "measurand": s["measurand"],
                "unit": s["unitOfMeasure"]["unit"],
            }
            for s in reading["sampledValue"]
        ],
    }


def _energy(event: Payload) -> int | None:
    for reading in event.get("meterValue", []):
        for sample in reading["sampledValue"]:
            if sample.get("measurand") == "Energy.Active.Import.Register":
                return int(sample["value"])
    return None


def start_transaction(started: Payload) -> Payload:
    return {
        "connectorId": int(started.get("evse", {}).get("id", 1)),
        "idTag": id_tag(str(started["idToken"]["idToken"])),
        "meterStart": _energy(started) or 0,
        "timestamp": started["timestamp"],
    }


def stop_transaction(ended: Payload, started: Payload, transaction_id: int) -> Payload:
    meter_stop = _energy(ended)
    payload: Payload = {
        "transactionId": transaction_id,
        "idTag": id_tag(str(started["idToken"]["idToken"])),
        "meterStop": meter_stop if meter_stop is not None else (_energy(started) or 0),
        "timestamp": ended["timestamp"],
        "reason": _REASONS.get(ended["transactionInfo"].get("stoppedReason", ""), "Other"),
    }
    if ended.get("meterValue"):
        payload["transactionData"] = [meter_value(m) for m in ended["meterValue"]]
    return payload


def meter_values(periodic: Payload, started: Payload, transaction_id: int) -> Payload:
    return {
        "connectorId": int(started.get("evse", {}).get("id", 1)),
        "transactionId": transaction_id,
        "meterValue": [meter_value(m) for m in periodic["meterValue"]],
    }


class Ocpp16(Dialect):
    version = "1.6"
    peer_class = StationPeer16

    def boot(self, firmware: str, reason: str = "PowerUp") -> Payload:  # 1.6 has no reason
        return {
            "chargePointVendor": "evkiosk",
            "chargePointModel": "evkiosk",
            "firmwareVersion": firmware[:50],
        }

    def status_name(self, status: ConnectorStatus) -> str:
        return _STATUS.get(status, "Unavailable")

    def status(self, evse: int, status: ConnectorStatus, at: str) -> Payload:
        fault = "OtherError" if status is ConnectorStatus.FAULTED else "NoError"
        return {
            "connectorId": evse,
            "errorCode": fault,
            "status": self.status_name(status),
            "timestamp": at,
        }

    async def send(self, peer: StationPeer, row: QueuedCsmsCall, journal: Journal) -> object:
        if row.action != "TransactionEvent" or row.transaction_id is None:
            return not_sent(f"{row.action} is OCPP 2.1 only")
        event: Payload = json.loads(row.payload_json, parse_float=Decimal)
        if row.kind == "started":
            start = start_transaction(event)
            if not event.get("offline"):  # 1.6: an offline start is not authorised first
                await self._authorize(peer, start["idTag"], f"{row.message_id}-a")
            answer: Payload = await peer.call_dict("StartTransaction", start, row.message_id)
            status = answer.get("idTagInfo", {}).get("status")
            if status != "Accepted":  # paid at the terminal: the CSMS cannot stop the charge
                log.warning("csms: StartTransaction idTag %s; charging goes on", status)
            return answer
        if row.kind not in ("periodic", "ended"):
            return not_sent("1.6 reports a charging-state change by StatusNotification")
        started_json, answer_json = journal.csms_started(row.transaction_id) or ("{}", None)
        started: Payload = json.loads(started_json, parse_float=Decimal)
        transaction_id = _transaction_id(answer_json)
        if transaction_id is None:
            log.error("csms: %s of %s has no 1.6 transactionId", row.kind, row.transaction_id)
            return not_sent("StartTransaction was not answered with a transactionId")
        if row.kind == "periodic":
            payload = meter_values(event, started, transaction_id)
            return await peer.call_dict("MeterValues", payload, row.message_id)
        payload = stop_transaction(event, started, transaction_id)
        return await peer.call_dict("StopTransaction", payload, row.message_id)

    @staticmethod
    async def _authorize(peer: StationPeer, tag: str, message_id: str) -> None:
        try:
            answer = await peer.call_dict("Authorize", {"idTag": tag}, message_id)
        except CsmsRefused as exc:
            log.warning("csms: Authorize refused (%s); the payment stands", exc)
            return
        status = answer.get("idTagInfo", {}).get("status")
        if status != "Accepted":
            log.warning("csms: Authorize %s; the payment stands, charging goes on", status)


def _transaction_id(answer_json: str | None) -> int | None:
    if answer_json is None:
        return None
    try:
        value = json.loads(answer_json).get("transactionId")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None
