"""Everything that can happen to the machine. Each event carries the time it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiosk.devices import CardResult, ControllerStatus, MeterReading, PaymentLink
from kiosk.session.model import Offer, SignedOutcome
from kiosk.snapshot import CostLine, Intent


@dataclass(frozen=True, slots=True)
class ConnectorChosen:
    """The driver chose a connector; the runtime attached a new id and the current offer."""

    at: datetime
    connector_id: str
    session_id: str
    offer: Offer


@dataclass(frozen=True, slots=True)
class IntentReceived:
    at: datetime
    intent: Intent


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passes: deadlines are checked against `at`."""

    at: datetime


@dataclass(frozen=True, slots=True)
class TerminalText:
    at: datetime
    session_id: str
    text: str


@dataclass(frozen=True, slots=True)
class PreauthDone:
    at: datetime
    session_id: str
    result: CardResult


@dataclass(frozen=True, slots=True)
class SettleDone:
    at: datetime
    session_id: str
    result: CardResult


@dataclass(frozen=True, slots=True)
class CsmsAuthorized:
    """The CSMS's answer to AuthorizeAtCsms: its idTokenInfo status ("Accepted", "Invalid",
    ...), or why there is none ("NoAnswer": the link was down or the CSMS did not answer)."""

    at: datetime
    session_id: str
    status: str


@dataclass(frozen=True, slots=True)
class WebPaymentStarted:
    """OCPP C25 NotifyWebPaymentStarted: a driver pays for this connector on a phone (the
    CSMS's QR page); no local start on it until `until` (a timeout of 0 lifts the block)."""

    at: datetime
    connector_id: str
    until: datetime


@dataclass(frozen=True, slots=True)
class CsmsStartRequested:
    """OCPP C25 RequestStartTransaction with a DirectPayment idToken: the CSMS's PSP holds the
    money; the session starts without a hold of the station's, as `session_id` (the OCPP
    transactionId), priced at the connector's offer and capped at its hold amount."""

    at: datetime
    connector_id: str
    session_id: str
    offer: Offer
    psp_ref: str
    remote_start_id: int


@dataclass(frozen=True, slots=True)
class CsmsLimitSet:
    """The CSMS's transactionLimit.maxCost for a transaction (its answer to a TransactionEvent,
    OCPP F07/E16), in the session's minor units."""

    at: datetime
    session_id: str
    max_cost_minor: int


@dataclass(frozen=True, slots=True)
class OpenPreauthsChecked:
    """The terminal was asked which holds it still has open. `receipts` None: it did not answer."""

    at: datetime
    session_id: str
    receipts: frozenset[int] | None


@dataclass(frozen=True, slots=True)
class LinkCreated:
    at: datetime
    session_id: str
    link: PaymentLink


@dataclass(frozen=True, slots=True)
class LinkFailed:
    at: datetime
    session_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class LinkUpdated:
    at: datetime
    session_id: str
    link: PaymentLink


@dataclass(frozen=True, slots=True)
class ControllerUpdate:
    at: datetime
    connector_id: str
    status: ControllerStatus


@dataclass(frozen=True, slots=True)
class ControllerFailed:
    at: datetime
    connector_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class MeterUpdate:
    """A reading, with the tariff cost of the running session up to it (runtime-computed).

    cost_minor is None when no session on the connector is metering.
    """

    at: datetime
    connector_id: str
    reading: MeterReading
    cost_minor: int | None = None
    # Priced as charging time (True) or parking time (False, the vehicle connected and not
    # drawing after it drew energy); journaled with the reading so the cost can be recomputed.
    charging: bool | None = None
    cost_lines: tuple[CostLine, ...] | None = None  # cost_minor by price component


@dataclass(frozen=True, slots=True)
class MeterFailed:
    at: datetime
    connector_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChargingSwitched:
    """The result of EnableCharging / DisableCharging."""

    at: datetime
    connector_id: str
    session_id: str
    enabled: bool
    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SignedBegun:
    """The result of BeginSignedTransaction: reason says why the meter refused."""

    at: datetime
    session_id: str
    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SignedEnded:
    """The result of EndSignedTransaction: the record is journaled; what it bills (priced by
    the runtime before the machine sees it)."""

    at: datetime
    session_id: str
    outcome: SignedOutcome


@dataclass(frozen=True, slots=True)
class EmergencyStop:
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class EmergencyCleared:
    """The emergency stop was released; connectors may be chosen again."""

    at: datetime


@dataclass(frozen=True, slots=True)
class Resumed:
    """After a restart: what the devices say now about a session restored from the journal.

    None for a device that could not be asked.
    """

    at: datetime
    session_id: str
    controller: ControllerStatus | None
    reading: MeterReading | None
    open_receipts: frozenset[int] | None


Event = (
    ConnectorChosen
    | IntentReceived
    | Tick
    | TerminalText
    | PreauthDone
    | SettleDone
    | CsmsAuthorized
    | WebPaymentStarted
    | CsmsStartRequested
    | CsmsLimitSet
    | OpenPreauthsChecked
    | LinkCreated
    | LinkFailed
    | LinkUpdated
    | ControllerUpdate
    | ControllerFailed
    | MeterUpdate
    | MeterFailed
    | ChargingSwitched
    | SignedBegun
    | SignedEnded
    | EmergencyStop
    | EmergencyCleared
    | Resumed
)
