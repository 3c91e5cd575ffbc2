"""What the machine asks the runtime to do. Data only; results come back as events.

The runtime journals every command (the intent) in the same transaction as the transition that
issued it, before it reaches a device.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.devices import MeterReading
from kiosk.session.model import Authorisation, Session


@dataclass(frozen=True, slots=True)
class PreauthoriseCard:
    session_id: str
    amount_minor: int
    currency: str
    reference: str


@dataclass(frozen=True, slots=True)
class AbortCard:
    session_id: str


@dataclass(frozen=True, slots=True)
class SettleCard:
    """Book final_minor of the hold and release the rest; 0 reverses it."""

    session_id: str
    auth: Authorisation
    final_minor: int
    attempt: int


@dataclass(frozen=True, slots=True)
class AuthorizeAtCsms:
    """Ask the operator's CSMS to accept an approved payment before charging (OCPP C18)."""

    session_id: str
    auth: Authorisation


@dataclass(frozen=True, slots=True)
class QueryOpenPreauths:
    session_id: str


@dataclass(frozen=True, slots=True)
class CreatePaymentLink:
    session_id: str
    connector_id: str
    amount_minor: int
    currency: str
    tariff_json: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class CancelPaymentLink:
    session_id: str
    link_id: str


@dataclass(frozen=True, slots=True)
class BeginMetering:
    """Start pricing this session's readings from `start` with the session's frozen tariff."""

    session_id: str
    connector_id: str
    start: MeterReading
    tariff_json: str


@dataclass(frozen=True, slots=True)
class BeginSignedTransaction:
    """Start the signing meter's transaction (tariff text, EVSE id); charging waits for it."""

    session_id: str
    connector_id: str


@dataclass(frozen=True, slots=True)
class EndSignedTransaction:
    """End the signing meter's transaction and read, journal and bill its record."""

    session_id: str
    connector_id: str


@dataclass(frozen=True, slots=True)
class EnableCharging:
    session_id: str
    connector_id: str


@dataclass(frozen=True, slots=True)
class DisableCharging:
    session_id: str
    connector_id: str


@dataclass(frozen=True, slots=True)
class CloseSession:
    """The money is final: mark the session closed and queue its report, in one transaction.

    report is False for sessions that never held money (abandoned at the price screen).
    """

    session: Session
    report: bool


Command = (
    PreauthoriseCard
    | AbortCard
    | SettleCard
    | AuthorizeAtCsms
    | QueryOpenPreauths
    | CreatePaymentLink
    | CancelPaymentLink
    | BeginMetering
    | BeginSignedTransaction
    | EndSignedTransaction
    | EnableCharging
    | DisableCharging
    | CloseSession
)
