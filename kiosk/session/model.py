"""The machine's state: immutable values, replaced (never mutated) by each step."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from kiosk.devices import CardResult, IecState, MeterReading, PaymentOutcome
from kiosk.session.names import FailureReason, MoneyOutcome, PaymentMethod, Phase, StopReason
from kiosk.snapshot import CostLine, CountdownKind, PriceLine

_DIGITS = re.compile(r"\d")


def mask_pan(pan: str | None) -> str | None:
    """Keep at most the first 6 and last 4 digits of a card number; mask every other digit.

    Applied to whatever a driver hands over, so a terminal (or a buggy driver) that reports a
    full PAN can never get it into the journal, a log line or a screen.
    """
    if pan is None:
        return None
    digits = [i for i, ch in enumerate(pan) if ch.isdigit()]
    keep = set(digits[:6] + digits[-4:])  # a PAN has 12-19 digits, so 10 never reveal one
    return "".join(ch if (not ch.isdigit() or i in keep) else "*" for i, ch in enumerate(pan))


@dataclass(frozen=True, slots=True)
class Policy:
    """Timeouts and limits, from the config file. Durations are timedelta, money minor units."""

    price_confirm_timeout: timedelta = timedelta(seconds=90)
    card_wait_timeout: timedelta = timedelta(seconds=120)
    link_grace: timedelta = timedelta(seconds=15)  # after expiry, before cancelling the link
    plug_timeout: timedelta = timedelta(seconds=180)
    plug_extension: timedelta = timedelta(seconds=120)
    max_extensions: int = 2
    start_timeout: timedelta = timedelta(seconds=120)  # enabled, but the vehicle draws nothing
    suspended_timeout: timedelta = timedelta(minutes=10)  # vehicle full / paused (pilot B)
    meter_stale_after: timedelta = timedelta(seconds=30)
    stopping_timeout: timedelta = timedelta(seconds=20)
    settle_retry: timedelta = timedelta(seconds=30)
    receipt_timeout: timedelta = timedelta(seconds=60)
    cap_margin_minor: int = 100  # stop this far below the hold, for meter lag ...
    cap_margin_percent: int = 5  # ... or this share of the hold, whichever is larger
    # The operator's CSMS accepts each payment before charging (OCPP AuthorizeDirectPayment).
    csms_authorize: bool = False

    def cap_minor(self, hold_minor: int) -> int:
        """The cost at which charging stops: safely below the hold."""
        margin = max(self.cap_margin_minor, hold_minor * self.cap_margin_percent // 100)
        return max(0, hold_minor - margin)


@dataclass(frozen=True, slots=True)
class Offer:
    """The price as shown and frozen at connector choice: the tariff travels with the session."""

    tariff_id: str
    tariff_json: str  # the OCPI tariff object, canonical JSON, exactly as priced
    currency: str
    hold_minor: int
    price_lines: tuple[PriceLine, ...] = ()
    vat_percent: Decimal | None = None  # the tariff's one VAT rate, for the receipt's VAT line
    alt_text: tuple[tuple[str, str], ...] = ()  # the tariff's tariff_alt_text: (language, text)


@dataclass(frozen=True, slots=True)
class Authorisation:
    """An approved hold, as the journal keeps it: references only, never card data."""

    method: PaymentMethod
    amount_minor: int
    currency: str
    receipt_no: int | None = None
    trace_no: int | None = None
    terminal_id: str | None = None
    auth_code: str | None = None
    masked_pan: str | None = None
    card_brand: str | None = None
    card_date: str | None = None
    card_time: str | None = None
    link_id: str | None = None
    reference: str | None = None
    remote_start_id: int | None = None  # the CSMS's RequestStartTransaction id (C25)

    @classmethod
    def from_card(cls, result: CardResult) -> Authorisation:
        return cls(
            method=PaymentMethod.CARD,
            amount_minor=result.amount_minor,
            currency=result.currency,
            receipt_no=result.receipt_no,
            trace_no=result.trace_no,
            terminal_id=result.terminal_id,
            auth_code=result.auth_code,
            masked_pan=mask_pan(result.masked_pan),
            card_brand=result.card_brand,
            card_date=result.card_date,
            card_time=result.card_time,
            reference=result.reference,
        )

    def to_card_result(self) -> CardResult:
        """What the terminal driver needs to book or reverse this hold."""
        return CardResult(
            outcome=PaymentOutcome.APPROVED,
            amount_minor=self.amount_minor,
            currency=self.currency,
            receipt_no=self.receipt_no,
            trace_no=self.trace_no,
            terminal_id=self.terminal_id,
            auth_code=self.auth_code,
            masked_pan=self.masked_pan,
            card_brand=self.card_brand,
            card_date=self.card_date,
            card_time=self.card_time,
            reference=self.reference,
        )


@dataclass(frozen=True, slots=True)
class Settlement:
    """The end of the money: what was booked, and how sure we are of it."""

    final_minor: int
    confirmed: bool  # the terminal (or the backend) answered APPROVED
    receipt_no: int | None = None
    trace_no: int | None = None
    assumed: bool = False  # outcome was lost; the hold was no longer open when asked
    # The terminal definitely refused the booking (its result code): nothing was booked and the
    # hold is left for the operator to capture with the payment reference (OCPP C22).
    refused_code: int | None = None


@dataclass(frozen=True, slots=True)
class SignedOutcome:
    """What a signing meter's record says the session is billed for (Eichrecht).

    energy_wh is the signed end minus begin when `signed`, else what the operator's rule bills
    (0 Wh); the flags (kiosk.ocmf.billing.Flag values, and "capped_at_hold") say why it is not a
    plain signed bill. cost_minor prices energy_wh with the session's tariff (runtime-priced)."""

    energy_wh: int
    signed: bool
    flags: tuple[str, ...] = ()
    detail: str = ""
    cost_minor: int | None = None
    cost_lines: tuple[CostLine, ...] = ()
    # The record's begin and end by the meter's clock (Eichrecht: time-based prices follow
    # them, not the station clock); None when not billed from a record.
    begin_at: datetime | None = None
    end_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    connector_id: str
    phase: Phase
    offer: Offer
    created_at: datetime
    phase_since: datetime
    deadline: datetime | None = None
    deadline_kind: CountdownKind | None = None
    extensions: int = 0
    method: PaymentMethod | None = None
    terminal_text: str | None = None
    abort_requested: bool = False
    link_id: str | None = None
    link_url: str | None = None
    link_expires_at: datetime | None = None
    auth: Authorisation | None = None
    meter_start: MeterReading | None = None
    started_at: datetime | None = None  # charging enabled
    last_reading: MeterReading | None = None
    cost_minor: int = 0  # tariff cost of meter_start .. last_reading, incl. VAT
    cost_lines: tuple[CostLine, ...] = ()  # cost_minor by price component
    agreed_minor: int | None = None  # the cost shown when the driver confirmed Stop
    suspended_since: datetime | None = None
    stop_reason: StopReason | None = None
    stop_requested_at: datetime | None = None
    disabled_confirmed: bool = False
    ended_at: datetime | None = None
    settle_minor: int | None = None  # the amount sent to be booked (0 = reversal)
    settle_attempts: int = 0
    settle_unknown: bool = False  # a settle went out and its outcome is not known
    settlement: Settlement | None = None
    # The CSMS's word on the payment (OCPP C18 Authorize): None when it is not asked,
    # "Pending" while it is, else its status ("Accepted", "Invalid", ...).
    csms_auth: str | None = None
    failure: FailureReason | None = None
    money: MoneyOutcome = MoneyOutcome.NONE_TAKEN
    closed: bool = False  # written to the journal as closed (and to the outbox)
    # Signing meter (Eichrecht): the booked energy comes from its record, not the live reads.
    signing: bool = False
    signed_begun: bool = False  # the meter confirmed the signed transaction's begin
    signed_requested: bool = False  # the end of the signed transaction was asked for
    signed: SignedOutcome | None = None

    @property
    def energy_wh(self) -> int:
        """The metered energy: the signed (or rule-billed) energy once the record is in."""
        if self.signed is not None:
            return self.signed.energy_wh
        if self.meter_start is None or self.last_reading is None:
            return 0
        return max(0, self.last_reading.energy_import_wh - self.meter_start.energy_import_wh)


@dataclass(frozen=True, slots=True)
class ConnectorConf:
    connector_id: str
    label: str = ""
    connector_type: str = "Type 2"
    max_kw: str = "11"
    labels: tuple[tuple[str, str], ...] = ()  # the label per language, as configured
    signing: bool = False  # the connector's meter signs its transactions (OCMF)


@dataclass(frozen=True, slots=True)
class ConnectorLive:
    """What the devices last said about a connector."""

    iec: IecState = IecState.UNKNOWN
    controller_online: bool = False
    controller_error: str | None = None
    meter_online: bool = False
    meter_error: str | None = None  # why the meter did not answer its last read
    # The meter's last reading, for a session's start. No snapshot shows it: a step that
    # changes only this publishes nothing (kiosk.runtime.core).
    reading: MeterReading | None = None


@dataclass(frozen=True, slots=True)
class Station:
    policy: Policy
    connectors: tuple[ConnectorConf, ...]
    live: dict[str, ConnectorLive] = field(default_factory=dict)  # replaced, never mutated
    sessions: tuple[Session, ...] = ()
    focus: str | None = None
    emergency: bool = False
    # OCPP C25 NotifyWebPaymentStarted: connector id -> until when a driver pays for it on a
    # phone; no local start on it meanwhile (replaced, never mutated).
    web_payments: dict[str, datetime] = field(default_factory=dict)

    def web_paying(self, connector_id: str, at: datetime) -> bool:
        until = self.web_payments.get(connector_id)
        return until is not None and at < until

    def session(self, session_id: str | None) -> Session | None:
        return next((s for s in self.sessions if s.session_id == session_id), None)

    def session_on(self, connector_id: str) -> Session | None:
        return next((s for s in self.sessions if s.connector_id == connector_id), None)

    def signing(self, connector_id: str) -> bool:
        return any(c.signing for c in self.connectors if c.connector_id == connector_id)

    def live_of(self, connector_id: str) -> ConnectorLive:
        return self.live.get(connector_id, ConnectorLive())
