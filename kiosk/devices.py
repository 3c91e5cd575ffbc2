"""The seam between the core and the hardware: value types and device interfaces.

Drivers (real and simulated) implement these protocols; the core only ever sees these types.
Every call here is blocking and is made from the device's one owner thread, never from the
state machine's thread or the UI. Money crosses this seam as integer minor units; energy as
integer watt-hours (the meter's own resolution is finer only for display); times as aware UTC
datetimes stamped when the value was *measured*, not when it was delivered.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

# --------------------------------------------------------------------------- errors


class DeviceError(Exception):
    """A device did not deliver a usable answer. The message says what to check."""


class DeviceTimeout(DeviceError):
    """Nothing (or not enough) came back in time."""


class DeviceProtocolError(DeviceError):
    """Something came back, but it was malformed: bad CRC, wrong framing, exception reply."""


class ImplausibleReading(DeviceError):
    """The device answered with values that cannot be true (counter went back, absurd jump)."""


class DeviceHealth(enum.Enum):
    OK = "ok"
    DEGRADED = "degraded"  # answering, but with retries or stale values
    OFFLINE = "offline"  # not answering at all


# --------------------------------------------------------------------------- meter


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One snapshot of an energy meter, stamped with the time it was measured (UTC).

    energy_import_wh is the cumulative import counter in whole Wh: what pricing uses. The
    electrical values are for display and plausibility checks only, never for money.
    """

    measured_at: datetime
    energy_import_wh: int
    power_w: float | None = None
    voltage_v: tuple[float, ...] = ()
    current_a: tuple[float, ...] = ()
    frequency_hz: float | None = None
    energy_export_wh: int | None = None


@runtime_checkable
class EnergyMeter(Protocol):
    def read(self) -> MeterReading:
        """Read the meter now. Raises DeviceError (never returns a stale or made-up value)."""
        ...


# --------------------------------------------------------------------------- controller


class IecState(enum.Enum):
    """Connector state per IEC 61851-1 (control pilot), normalised from vendor encodings."""

    A = "A"  # no vehicle
    B = "B"  # vehicle connected, not requesting energy (B1/B2 collapse here; see raw)
    C = "C"  # vehicle requesting energy (charging)
    D = "D"  # charging, ventilation required
    E = "E"  # error: short circuit / no power on pilot
    F = "F"  # EVSE not available / fault
    UNKNOWN = "?"

    @property
    def vehicle_connected(self) -> bool:
        return self in (IecState.B, IecState.C, IecState.D)

    @property
    def energy_requested(self) -> bool:
        return self in (IecState.C, IecState.D)

    @property
    def is_error(self) -> bool:
        return self in (IecState.E, IecState.F)


@dataclass(frozen=True, slots=True)
class ControllerStatus:
    measured_at: datetime
    state: IecState
    raw_state: str  # the value as the controller reported it, for diagnostics
    charging_enabled: bool
    current_limit_a: float | None = None
    error_flags: frozenset[str] = frozenset()


@runtime_checkable
class ChargeController(Protocol):
    def status(self) -> ControllerStatus: ...

    def enable_charging(self, enabled: bool) -> None:
        """Allow or forbid energy flow. Disabling must work even when other calls fail."""
        ...

    def set_current_limit(self, amps: float) -> None:
        """Set the maximum charging current; the driver re-asserts it before any watchdog."""
        ...


# --------------------------------------------------------------------------- card terminal


class PaymentOutcome(enum.Enum):
    """What happened to a card payment step, as the core and the driver-facing text need it."""

    APPROVED = "approved"
    DECLINED = "declined"
    PIN_REQUIRED = "pin_required"  # soft decline: retry with PIN (contact chip)
    CARD_UNREADABLE = "card_unreadable"
    CANCELLED = "cancelled"  # by the driver at the terminal, or aborted by the kiosk
    TIMEOUT = "timeout"  # no card presented / no answer in time
    TERMINAL_BUSY = "terminal_busy"
    LINK_ERROR = "link_error"  # outcome unknown: the terminal must be asked before retrying
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class CardResult:
    """A terminal's answer to one money command (the fields of ZVT 04 0F that may be stored).

    Never holds a full PAN or track data: masked_pan shows at most the first 6 and last 4 digits.
    """

    outcome: PaymentOutcome
    amount_minor: int
    currency: str
    raw_result_code: int | None = None
    receipt_no: int | None = None
    trace_no: int | None = None
    terminal_id: str | None = None
    auth_code: str | None = None
    masked_pan: str | None = None
    card_brand: str | None = None
    card_date: str | None = None  # MMDD as the terminal printed it
    card_time: str | None = None  # HHMMSS
    receipt_text: tuple[str, ...] = ()
    reference: str | None = None  # the kiosk's session reference sent with the pre-auth


@dataclass(frozen=True, slots=True)
class OpenPreauth:
    receipt_no: int
    amount_minor: int | None = None
    trace_no: int | None = None


@dataclass(frozen=True, slots=True)
class BrandTotal:
    brand: str
    count: int
    amount_minor: int


@dataclass(frozen=True, slots=True)
class EndOfDayTotals:
    outcome: PaymentOutcome
    total_minor: int
    currency: str
    brands: tuple[BrandTotal, ...] = ()
    receipt_from: int | None = None
    receipt_to: int | None = None
    trace_no: int | None = None
    raw_result_code: int | None = None


@dataclass(frozen=True, slots=True)
class TerminalStatus:
    ready: bool
    terminal_id: str | None
    raw_status: int | None
    text: str


# Called by the driver once it has sent the terminal its acknowledgement of a result (ZVT:
# 80 00 00 to the 04 0F and to every receipt of that command): only then does the terminal keep
# the transaction. A result journaled without this mark may have been dropped by the terminal.
AckSink = Callable[[], None]
# A terminal result is handed to this before the driver acknowledges it to the terminal
# (ZVT: persist the 04 0F fields, then send 80 00 00). If it raises, the driver must not ACK.
# What it returns (if anything) is called once the acknowledgement was sent.
ResultSink = Callable[[CardResult], AckSink | None]
# Intermediate status texts from the terminal ("Insert card", "PIN entry"), for the screen.
StatusTextSink = Callable[[str], None]


@runtime_checkable
class CardTerminal(Protocol):
    def status(self) -> TerminalStatus: ...

    def preauthorise(
        self,
        amount_minor: int,
        currency: str,
        reference: str,
        persist: ResultSink,
        on_text: StatusTextSink,
    ) -> CardResult:
        """Reserve amount_minor on the presented card (ZVT 06 22). Blocks until a result."""
        ...

    def settle(self, auth: CardResult, final_minor: int, persist: ResultSink) -> CardResult:
        """Book final_minor of the hold and release the rest (06 23 / 06 24, as configured).

        final_minor == 0 reverses the whole hold (06 25). final_minor may not exceed the hold.
        """
        ...

    def refund(
        self,
        amount_minor: int,
        currency: str,
        reference: str,
        persist: ResultSink,
        on_text: StatusTextSink,
    ) -> CardResult:
        """Pay amount_minor back to the presented card (ZVT 06 31). Blocks until a result."""
        ...

    def last_result(self, currency: str) -> CardResult | None:
        """The last result the terminal kept, sent again (ZVT 06 20): recovery compares it with a
        journaled result that was never marked acknowledged. Nothing is persisted. None if the
        terminal has none; raises DeviceError if it does not answer."""
        ...

    def abort(self) -> None:
        """Stop waiting for a card (06 B0). Harmless if no card wait is running."""
        ...

    def open_preauths(self) -> list[OpenPreauth]:
        """Every pre-auth the terminal still holds open (06 23 with receipt FFFF, looped)."""
        ...

    def end_of_day(self) -> EndOfDayTotals: ...


# --------------------------------------------------------------------------- backend


class LinkStatus(enum.Enum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    CAPTURED = "captured"
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class PaymentLink:
    id: str
    url: str
    status: LinkStatus
    expires_at: datetime
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class BackendAck:
    """The backend's answer to a report, journaled as it came."""

    accepted: bool
    status_code: int
    body: Mapping[str, object] = field(default_factory=dict)


class BackendError(Exception):
    """The backend could not be reached or answered nonsense; the caller retries later."""


@runtime_checkable
class Backend(Protocol):
    def create_payment_link(
        self,
        connector_id: str,
        amount_minor: int,
        currency: str,
        tariff: Mapping[str, object],
        idempotency_key: str,
    ) -> PaymentLink: ...

    def wait_payment_link(self, link_id: str, wait_s: float) -> PaymentLink:
        """Long-poll the link's status; returns when it changes or after wait_s."""
        ...

    def cancel_payment_link(self, link_id: str) -> PaymentLink: ...

    def report(self, kind: str, idempotency_key: str, payload: Mapping[str, object]) -> BackendAck:
        """Deliver one outbox record (a session, a payment, end-of-day totals)."""
        ...
