"""What differs between the OCPP versions a CSMS may choose (the websocket subprotocol).

The journal's queue holds every message as OCPP 2.1 (kiosk/journal/csms_feed.py). A dialect
says, for the version of the connection it is sent on, how the station boots, how a connector
status is reported and what a queued row becomes on the wire: 2.1 sends it as it was written,
2.0.1 and 1.6 translate it at send time (drivers/ocpp/v201.py, drivers/ocpp/v16.py). Translating
at send time, not at queueing, means a row queued offline under one version is sent right under
the version the CSMS accepts later, and 1.6's transactionId (known only from the CSMS's answer
to StartTransaction) is read from the journal when a Stop or MeterValues row is sent.
"""

from __future__ import annotations

from typing import Any

from drivers.ocpp.peer import StationPeer
from kiosk.journal.csms_queue import QueuedCsmsCall
from kiosk.journal.store import Journal
from kiosk.snapshot import ConnectorStatus

Payload = dict[str, Any]

# OCPP 2.x ConnectorStatusEnumType for the tile's status.
STATUS_2X = {
    ConnectorStatus.AVAILABLE: "Available",
    ConnectorStatus.PREPARING: "Occupied",
    ConnectorStatus.CHARGING: "Occupied",
    ConnectorStatus.SUSPENDED_EV: "Occupied",
    ConnectorStatus.FINISHING: "Occupied",
    ConnectorStatus.OCCUPIED: "Occupied",
    ConnectorStatus.UNAVAILABLE: "Unavailable",
    ConnectorStatus.FAULTED: "Faulted",
}
SUBPROTOCOLS = {"2.1": "ocpp2.1", "2.0.1": "ocpp2.0.1", "1.6": "ocpp1.6"}


def not_sent(reason: str) -> Payload:
    """The answer kept with a row that has no message in this version (so the queue goes on)."""
    return {"notSent": reason}


def boot_payload(firmware: str, reason: str = "PowerUp") -> Payload:
    return {
        "reason": reason,
        "chargingStation": {
            "model": "evkiosk",
            "vendorName": "evkiosk",
            "firmwareVersion": firmware[:50],
        },
    }


class Dialect:
    """OCPP 2.1: the queued payloads are sent as they were written."""

    version = "2.1"
    peer_class: type[StationPeer] = StationPeer

    def boot(self, firmware: str, reason: str = "PowerUp") -> Payload:
        return boot_payload(firmware, reason)

    def status_name(self, status: ConnectorStatus) -> str:
        return STATUS_2X.get(status, "Unavailable")

    def status(self, evse: int, status: ConnectorStatus, at: str) -> Payload:
        return {
            "timestamp": at,
            "connectorStatus": self.status_name(status),
            "evseId": evse,
            "connectorId": 1,
        }

    async def send(self, peer: StationPeer, row: QueuedCsmsCall, journal: Journal) -> object:
        """Send one queued row; the answer to keep with it (CsmsRefused and link errors
        propagate to the link, which knows what to do with them)."""
        return await peer.call_json(row.action, row.payload_json, row.message_id)


def dialect_for(subprotocol: str | None) -> Dialect | None:
    from drivers.ocpp.v16 import Ocpp16  # noqa: PLC0415 (they import this module)
    from drivers.ocpp.v201 import Ocpp201  # noqa: PLC0415

    return {"ocpp2.1": Dialect(), "ocpp2.0.1": Ocpp201(), "ocpp1.6": Ocpp16()}.get(
        subprotocol or ""
    )
