"""The seam to a meter that signs transactions (Eichrecht): what the core asks of its driver.

Calls are blocking and come from the meter's owner thread, like `kiosk.devices.EnergyMeter`.
`stop` is split in two so a crash between ending the transaction and reading its record loses
nothing: the meter keeps the record until `confirm_read`, and `recover` at start-up collects it
(or ends a transaction a crashed kiosk left running, as EVerest does), and the caller confirms
only once the record is journaled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kiosk.devices import DeviceError


class SigningError(DeviceError):
    """The meter refused or failed a signed-transaction step; the session has no OCMF record."""


@dataclass(frozen=True, slots=True)
class SignerIdentity:
    model: str
    serial: str
    firmware: str | None
    public_key: str | None  # DER SubjectPublicKeyInfo hex, as the Transparenzsoftware reads it
    signing: bool  # the meter has a key and can sign


@dataclass(frozen=True, slots=True)
class TransactionStart:
    transaction_id: str  # the kiosk's session id; the record carries it back
    charge_point_id: str  # EVSE id, as printed on the station
    tariff_text: str  # exactly the text the kiosk shows (OCMF TT, at most 250 characters)


class SignedTransactionMeter(Protocol):
    def identity(self) -> SignerIdentity: ...

    def start_transaction(self, start: TransactionStart) -> None: ...

    def end_transaction(self, transaction_id: str) -> None:
        """Send the end command; the meter signs. Raises `SigningError` if it refuses."""

    def read_record(self, transaction_id: str | None) -> str:
        """The signed record of the ended transaction (OCMF text), still kept by the meter.

        With a transaction id, a record of another transaction raises `SigningError`."""

    def confirm_read(self) -> None:
        """Tell the meter the record is stored; it may drop it now."""

    def recover(self) -> str | None:
        """At start-up: end a transaction left running and return any unread record.

        The caller journals the record, then calls `confirm_read`."""
