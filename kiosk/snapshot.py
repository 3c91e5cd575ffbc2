"""What a screen may know, and what a screen may ask for.

The runtime publishes a `StationSnapshot` after every change; it is immutable, so the UI thread
can hold it as long as it likes. Money crosses this boundary as integer minor units with the
currency beside it; times are aware UTC datetimes and countdowns are deadlines (the screen
computes the remaining seconds from its own clock tick, so a late snapshot never stretches one).

The UI answers with `Intent` values. Every session intent names the session it was drawn for,
so a tap on a screen that is already out of date is ignored instead of acting on the wrong one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kiosk.session.names import FailureReason, MoneyOutcome, PaymentMethod, Phase, StopReason
from kiosk.tariff.lines import PriceLine, PriceWhen
from kiosk.tariff.now import PriceNow

__all__ = [
    "Amount",
    "BackToStart",
    "Cancel",
    "ChooseConnector",
    "ConfirmPrice",
    "ConnectorStatus",
    "ConnectorTile",
    "CostLine",
    "Countdown",
    "CountdownKind",
    "CsmsLinkView",
    "ExtendTimeout",
    "FailureReason",
    "FailureView",
    "Intent",
    "LiveValues",
    "MoneyOutcome",
    "OperatorFigure",
    "PayByCard",
    "PayByQr",
    "PaymentLinkView",
    "PaymentMethod",
    "Phase",
    "PriceLine",
    "PriceNow",
    "PriceWhen",
    "Receipt",
    "SessionView",
    "StationSnapshot",
    "StopCharging",
    "StopReason",
    "VatLine",
]


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount at the UI boundary: integer minor units (cents) and its ISO 4217 currency."""

    minor: int
    currency: str


class ConnectorStatus(enum.Enum):
    """A tile's status, in the OCPP 1.6 vocabulary drivers know from other chargers."""

    AVAILABLE = "available"
    PREPARING = "preparing"  # a session is being set up (paying, waiting for the plug)
    CHARGING = "charging"
    SUSPENDED_EV = "suspended_ev"  # plugged and enabled, the vehicle draws nothing
    FINISHING = "finishing"  # charging ended, waiting for settlement or unplug
    OCCUPIED = "occupied"  # a vehicle is plugged in without a session here
    UNAVAILABLE = "unavailable"  # device offline or disabled in config
    FAULTED = "faulted"


@dataclass(frozen=True, slots=True)
class ConnectorTile:
    connector_id: str
    label: str  # "Left", "1", as configured
    connector_type: str  # "Type 2", "CCS2", ...
    max_kw: Decimal
    status: ConnectorStatus
    price: PriceNow | None = None  # the price in force now, and its next change
    status_reason: str | None = None  # why it is unavailable or faulted: the device's detail
    session_id: str | None = None  # the running session on this connector, if any
    # The label in other languages, as configured: (("en", "Left"), ("fr", "Gauche")).
    labels: tuple[tuple[str, str], ...] = ()
    # Why it is unavailable or faulted, as a code the screen words in its language:
    # "emergency_stop", "controller_offline", "meter_offline", "connector_fault".
    reason_code: str | None = None
    # OCPP 2.1 C25: the operator's dynamic QR code for paying on a phone (it changes with its
    # one-time password), and until when a driver is paying that way (no local start meanwhile).
    web_pay_url: str | None = None
    web_paying_until: datetime | None = None

    @property
    def selectable(self) -> bool:
        if self.web_paying_until is not None:
            return False
        return self.status not in (ConnectorStatus.UNAVAILABLE, ConnectorStatus.FAULTED)


@dataclass(frozen=True, slots=True)
class PaymentLinkView:
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LiveValues:
    """The charging screen's figures, as of the meter reading taken at `measured_at`."""

    energy_wh: int
    power_w: float | None
    started_at: datetime
    measured_at: datetime
    cost: Amount
    # A signing meter (Eichrecht) bills: these live values are informative only, and the cost
    # at Stop is provisional until the meter's signed reading is in.
    informative: bool = False

    @property
    def elapsed_s(self) -> int:
        return max(0, int((self.measured_at - self.started_at).total_seconds()))


@dataclass(frozen=True, slots=True)
class FailureView:
    reason: FailureReason
    message: str  # driver-facing, English; the UI translates by `reason`
    money: MoneyOutcome


@dataclass(frozen=True, slots=True)
class CostLine:
    """One part of a session's cost, incl. VAT; a receipt's lines add up to its total.

    ``component``: "energy", "time" (charging time), "parking", "fixed" (session fee),
    "price_limit" (the tariff's minimum/maximum price), "stop_price" (the trailing second
    after the driver's Stop is not charged: the amount shown at Stop is what is booked),
    "hold_cap" (never more than the reservation)."""

    component: str
    amount: Amount


@dataclass(frozen=True, slots=True)
class VatLine:
    rate_percent: Decimal
    net: Amount
    vat: Amount


@dataclass(frozen=True, slots=True)
class Receipt:
    session_id: str
    connector_id: str
    energy_wh: int
    started_at: datetime
    ended_at: datetime
    total: Amount  # incl. VAT: what was booked
    net: Amount
    vat_lines: tuple[VatLine, ...]
    hold: Amount  # what was reserved; hold - total was released
    method: PaymentMethod
    money: MoneyOutcome
    stop_reason: StopReason | None = None
    card_brand: str | None = None
    masked_pan: str | None = None  # first 6 / last 4 at most
    terminal_id: str | None = None
    receipt_no: int | None = None
    trace_no: int | None = None
    receipt_url: str | None = None
    meter_start_wh: int | None = None
    meter_end_wh: int | None = None
    cost_lines: tuple[CostLine, ...] = ()  # each price component, then any adjustment


class CountdownKind(enum.Enum):
    PRICE_CONFIRM = "price_confirm"  # idle on the price screen, back to start
    CARD_WAIT = "card_wait"  # the terminal waits for the card
    PAYMENT_LINK = "payment_link"  # the QR link expires
    PLUG_IN = "plug_in"  # authorised; plug in before the hold is released
    RECEIPT = "receipt"  # the receipt screen returns to idle


@dataclass(frozen=True, slots=True)
class Countdown:
    kind: CountdownKind
    ends_at: datetime
    extendable: bool = False  # an ExtendTimeout intent is accepted


@dataclass(frozen=True, slots=True)
class OperatorFigure:
    """What the operator's CSMS says of a running session (OCPP 2.0.1 central cost, I02/I03):
    its running total cost and its text. Shown as the operator's, beside the station's own
    cost; what the driver pays is the station's (payment stays local)."""

    total: Amount | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class SessionView:
    session_id: str
    connector_id: str
    phase: Phase
    price_lines: tuple[PriceLine, ...] = ()
    price_now: PriceNow | None = None  # which of price_lines are in force now, what comes next
    alt_text: tuple[tuple[str, str], ...] = ()  # the tariff's own words: (language, text)
    hold: Amount | None = None
    method: PaymentMethod | None = None
    terminal_text: str | None = None  # "Present card", "Enter PIN", as the terminal says
    payment_link: PaymentLinkView | None = None
    live: LiveValues | None = None
    stop_reason: StopReason | None = None
    failure: FailureView | None = None
    receipt: Receipt | None = None
    countdowns: tuple[Countdown, ...] = ()
    operator: OperatorFigure | None = None  # the CSMS's running cost and text (2.0.1)
    # The operator's CSMS is asked to accept the approved payment (OCPP AuthorizeDirectPayment)
    # and has not answered yet: nothing starts before it does.
    operator_checking: bool = False


@dataclass(frozen=True, slots=True)
class ReportingStatus:
    """The link to the backend, for the service menu: the outbox and the last end-of-day."""

    backend_online: bool | None  # None: not known yet
    outbox_queued: int = 0
    outbox_parked: int = 0  # refused by the backend; kept for the operator
    outbox_oldest_at: datetime | None = None
    outbox_last_error: str | None = None
    end_of_day_mismatch: str | None = None  # terminal totals differ from the journal


@dataclass(frozen=True, slots=True)
class CsmsLinkView:
    """The link to the operator's CSMS (OCPP), for the service menu."""

    connected: bool  # the CSMS accepted the boot
    version: str | None = None  # the OCPP version agreed
    queued: int = 0  # messages waiting to be sent
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class SigningMeterView:
    """A connector's signing meter (Eichrecht), for the service menu: as it identified itself
    at start-up; `problem` says why it could not be asked."""

    connector_id: str
    model: str = ""
    serial: str = ""
    firmware: str | None = None
    public_key: str | None = None
    signing: bool = False
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class StationSnapshot:
    """Everything a screen shows, at one instant. `seq` grows by one per publication."""

    seq: int
    published_at: datetime
    station_name: str
    locales: tuple[str, ...]
    phase: Phase  # the focused session's phase, or IDLE
    connectors: tuple[ConnectorTile, ...]
    focus: SessionView | None = None  # the session the screen is about
    background: tuple[SessionView, ...] = ()  # other sessions (charging on another connector)
    terminal_ready: bool = True
    qr_available: bool = True
    notice: str | None = None  # station-wide message (out of order, recovering)
    reporting: ReportingStatus | None = None  # None: no backend configured
    signing_meters: tuple[SigningMeterView, ...] = ()  # connectors whose meter signs (OCMF)
    csms: CsmsLinkView | None = None  # None: no CSMS configured

    def in_use(self, connector_id: str) -> bool:
        """A driver has chosen this connector or a session runs on it."""
        views = (self.focus, *self.background) if self.focus else self.background
        if any(v.connector_id == connector_id for v in views):
            return True
        return any(t.session_id for t in self.connectors if t.connector_id == connector_id)


# --------------------------------------------------------------------------- intents


@dataclass(frozen=True, slots=True)
class ChooseConnector:
    """Start a session on this connector, or focus the one already running there."""

    connector_id: str


@dataclass(frozen=True, slots=True)
class ConfirmPrice:
    session_id: str


@dataclass(frozen=True, slots=True)
class PayByCard:
    session_id: str


@dataclass(frozen=True, slots=True)
class PayByQr:
    session_id: str


@dataclass(frozen=True, slots=True)
class Cancel:
    """Leave the flow before charging starts; any hold is released."""

    session_id: str


@dataclass(frozen=True, slots=True)
class StopCharging:
    """The driver confirmed "stop". The screen asks for confirmation before sending this."""

    session_id: str


@dataclass(frozen=True, slots=True)
class ExtendTimeout:
    """The driver needs more time for the countdown that is running."""

    session_id: str


@dataclass(frozen=True, slots=True)
class BackToStart:
    """Leave a finished screen (receipt, failure) or the price screen for the idle screen."""

    session_id: str | None = None


Intent = (
    ChooseConnector
    | ConfirmPrice
    | PayByCard
    | PayByQr
    | Cancel
    | StopCharging
    | ExtendTimeout
    | BackToStart
)
