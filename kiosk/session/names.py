"""The shared vocabulary of a charging session: phases, failure reasons, money outcomes.

Every value is a stable string: a log line, a journal row, a screen and a test all use the same
name for the same thing. Renaming a value is a journal migration, not a refactoring.
"""

from __future__ import annotations

import enum


class Phase(enum.Enum):
    """Where a session (or, for IDLE, the screen without a session) stands."""

    IDLE = "idle"
    PRICE_SHOWN = "price_shown"  # connector chosen, tariff frozen, waiting for "accept"
    CHOOSING_PAYMENT = "choosing_payment"
    PAYING_CARD = "paying_card"  # pre-authorisation running on the terminal
    PAYING_QR = "paying_qr"  # payment link shown, waiting for the phone
    WAITING_FOR_PLUG = "waiting_for_plug"  # authorised, vehicle not connected yet
    STARTING = "starting"  # charging enabled, waiting for the vehicle to draw energy
    CHARGING = "charging"
    STOPPING = "stopping"  # charging disabled, waiting for the final meter reading
    SETTLING = "settling"  # booking the cost / releasing the hold
    RECEIPT = "receipt"
    FAILED = "failed"  # ended without charging; the reason says what happened to the money
    CLOSED = "closed"  # nothing left to do; the session is in the outbox

    @property
    def holds_money(self) -> bool:
        """An approved authorisation may be open in this phase."""
        return self in _HOLDING

    @property
    def is_final(self) -> bool:
        return self is Phase.CLOSED


_HOLDING = frozenset(
    {Phase.WAITING_FOR_PLUG, Phase.STARTING, Phase.CHARGING, Phase.STOPPING, Phase.SETTLING}
)


class PaymentMethod(enum.Enum):
    CARD = "card"
    QR = "qr"
    # Paid on the operator's side (OCPP 2.1 C25: the CSMS's web payment and its PSP's hold);
    # the CSMS started the session with the payment's DirectPayment token.
    CSMS = "csms"


class StopReason(enum.Enum):
    """Why charging ended (or never began)."""

    DRIVER = "driver"  # stop button on the screen
    VEHICLE = "vehicle"  # unplugged or full (pilot left C)
    COST_CAP = "cost_cap"  # the cost approached the authorised amount
    METER_FAULT = "meter_fault"  # meter silent, stale or implausible
    CONTROLLER_FAULT = "controller_fault"  # pilot E/F, controller error
    EMERGENCY = "emergency"
    PLUG_TIMEOUT = "plug_timeout"
    CANCELLED = "cancelled"  # driver cancelled after authorisation, before charging
    RECOVERY = "recovery"  # the kiosk restarted and could not resume
    NOT_AUTHORISED = "not_authorised"  # the operator's CSMS did not accept the payment


class FailureReason(enum.Enum):
    """Why a session ended without the driver being charged. `text` is the driver-facing line."""

    CARD_DECLINED = "card_declined"
    CARD_PIN_REQUIRED = "card_pin_required"
    CARD_UNREADABLE = "card_unreadable"
    CARD_CANCELLED = "card_cancelled"
    CARD_TIMEOUT = "card_timeout"
    TERMINAL_UNAVAILABLE = "terminal_unavailable"
    LINK_FAILED = "link_failed"
    LINK_EXPIRED = "link_expired"
    CANCELLED_BY_DRIVER = "cancelled_by_driver"
    PLUG_TIMEOUT = "plug_timeout"
    NO_ENERGY = "no_energy"  # authorised and plugged, but nothing was delivered
    CONNECTOR_FAULT = "connector_fault"
    INTERRUPTED = "interrupted"  # the station restarted in the middle of the payment
    OPERATOR_REFUSED = "operator_refused"  # the CSMS did not accept the payment (OCPP C19)

    @property
    def text(self) -> str:
        return _FAILURE_TEXT[self]


_FAILURE_TEXT = {
    FailureReason.CARD_DECLINED: "Your card was declined. No money was taken.",
    FailureReason.CARD_PIN_REQUIRED: "Please insert your card and enter your PIN.",
    FailureReason.CARD_UNREADABLE: "The card could not be read. Please try again.",
    FailureReason.CARD_CANCELLED: "The payment was cancelled. No money was taken.",
    FailureReason.CARD_TIMEOUT: "No card was presented in time. No money was taken.",
    FailureReason.TERMINAL_UNAVAILABLE: (
        "Card payment is not available right now. Please pay by QR code."
    ),
    FailureReason.LINK_FAILED: "The payment link could not be created. Please pay by card.",
    FailureReason.LINK_EXPIRED: "The payment link expired. No money was taken.",
    FailureReason.CANCELLED_BY_DRIVER: "Cancelled. No money was taken.",
    FailureReason.PLUG_TIMEOUT: (
        "No vehicle was plugged in in time. The reserved amount is released; nothing was charged."
    ),
    FailureReason.NO_ENERGY: (
        "No energy was delivered. The reserved amount is released; nothing was charged."
    ),
    FailureReason.CONNECTOR_FAULT: (
        "The connector reported a fault. The reserved amount is released; nothing was charged."
    ),
    FailureReason.INTERRUPTED: (
        "The station restarted. Any reserved amount is released; nothing was charged."
    ),
    FailureReason.OPERATOR_REFUSED: (
        "The charging operator did not accept this payment. The reserved amount is released;"
        " nothing was charged."
    ),
}


class MoneyOutcome(enum.Enum):
    """What happened (or will happen) to the driver's money, for the screen and the receipt."""

    NONE_TAKEN = "none_taken"  # no authorisation was ever approved
    HOLD_RELEASED = "hold_released"  # authorised, then fully reversed
    RELEASE_PENDING = "release_pending"  # reversal sent, terminal answer outstanding
    CHARGED = "charged"  # booked the computed cost, rest released
    CHARGE_PENDING = "charge_pending"  # booking sent or queued, answer outstanding
    CHARGE_REFUSED = "charge_refused"  # the terminal refused the booking: nothing was taken
