"""Result codes (BMP 27, 06 1E, 84 xx) → kiosk outcome + a driver-facing reason; status texts.

All of it is data: a terminal/acquirer with other codes gets another table, not new branches.
Host codes 01-63 are the host's ISO 8583 response code in binary; the PIN-required soft
declines (13, 33, 3D, 41) are Lavego's, as EV chargers in Germany mostly use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.devices import PaymentOutcome

Outcome = PaymentOutcome


@dataclass(frozen=True, slots=True)
class ResultInfo:
    code: int
    outcome: PaymentOutcome
    reason: str  # stable key for the screen's text ("declined", "pin_required", ...)
    meaning: str  # the spec's wording, for logs and the decoder


RESULT_CODES: dict[int, tuple[PaymentOutcome, str, str]] = {
    0x00: (Outcome.APPROVED, "approved", "no error"),
    0x05: (Outcome.DECLINED, "declined", "declined by the card issuer (do not honour)"),
    0x13: (
        Outcome.PIN_REQUIRED,
        "pin_required",
        "contactless limit reached: insert card, enter PIN",
    ),
    0x33: (Outcome.PIN_REQUIRED, "pin_required", "PIN entry required"),
    0x3D: (Outcome.PIN_REQUIRED, "pin_required", "PIN entry required"),
    0x41: (Outcome.PIN_REQUIRED, "pin_required", "strong authentication required: insert card"),
    0x64: (Outcome.CARD_UNREADABLE, "card_unreadable", "card not readable"),
    0x65: (Outcome.CARD_UNREADABLE, "card_unreadable", "card data not present"),
    0x66: (Outcome.ERROR, "processing_error", "processing error"),
    0x67: (Outcome.DECLINED, "card_not_supported", "function not permitted for ec/Maestro cards"),
    0x68: (Outcome.DECLINED, "card_not_supported", "function not permitted for credit/fuel cards"),
    0x6A: (Outcome.TERMINAL_BUSY, "terminal_busy", "turnover file full"),
    0x6B: (Outcome.ERROR, "terminal_not_registered", "function deactivated"),
    0x6C: (Outcome.CANCELLED, "cancelled", "aborted by timeout or abort key"),
    0x6E: (Outcome.DECLINED, "declined", "card in blocked list"),
    0x6F: (Outcome.ERROR, "wrong_currency", "wrong currency"),
    0x71: (Outcome.DECLINED, "insufficient_funds", "credit not sufficient"),
    0x72: (Outcome.CARD_UNREADABLE, "card_unreadable", "chip error"),
    0x73: (Outcome.CARD_UNREADABLE, "card_unreadable", "card data incorrect"),
    0x77: (Outcome.ERROR, "end_of_day_not_possible", "end-of-day batch not possible"),
    0x78: (Outcome.DECLINED, "card_expired", "card expired"),
    0x79: (Outcome.DECLINED, "card_not_yet_valid", "card not yet valid"),
    0x7A: (Outcome.DECLINED, "card_not_supported", "card unknown"),
    0x7D: (Outcome.ERROR, "host_unreachable", "communication error"),
    0x83: (Outcome.ERROR, "not_possible", "function not possible"),
    0x9A: (Outcome.ERROR, "protocol_error", "ZVT protocol error"),
    0x9B: (Outcome.ERROR, "host_unreachable", "dial-up / communication fault"),
    0x9C: (Outcome.TERMINAL_BUSY, "terminal_busy", "please wait"),
    0xA0: (Outcome.TERMINAL_BUSY, "terminal_busy", "receiver not ready"),
    0xA1: (Outcome.ERROR, "host_unreachable", "remote station does not respond"),
    0xA3: (Outcome.ERROR, "host_unreachable", "no connection"),
    0xB4: (Outcome.ERROR, "already_reversed", "already reversed"),
    0xB5: (Outcome.ERROR, "reversal_not_possible", "reversal not possible"),
    0xB7: (Outcome.ERROR, "amount_too_high", "pre-authorisation incorrect (amount too high)"),
    0xB8: (Outcome.ERROR, "preauth_error", "error pre-authorisation"),
    0xC5: (Outcome.DECLINED, "card_not_supported", "payment method not supported"),
    0xC6: (Outcome.DECLINED, "card_not_supported", "currency not applicable"),
    0xDC: (Outcome.TERMINAL_BUSY, "terminal_busy", "card inserted"),
    0xE0: (Outcome.TERMINAL_BUSY, "terminal_busy", "remote maintenance active"),
    0xEC: (Outcome.PIN_REQUIRED, "pin_required", "PIN processing not possible"),
    0xF0: (Outcome.ERROR, "end_of_day_required", "open end-of-day batch present"),
    0xFC: (Outcome.PIN_REQUIRED, "pin_required", "necessary device not present"),
    0xFF: (Outcome.ERROR, "system_error", "system error"),
}


def classify(code: int) -> ResultInfo:
    known = RESULT_CODES.get(code)
    if known is not None:
        return ResultInfo(code, *known)
    if 0x01 <= code <= 0x63:
        return ResultInfo(code, Outcome.DECLINED, "declined", f"host response code {code:02d}")
    return ResultInfo(code, Outcome.ERROR, "terminal_error", f"result code {code:02X}")


# 04 FF intermediate status → text for the kiosk screen (when the terminal sends none).
INTERMEDIATE_TEXTS: dict[int, str] = {
    0x00: "Please confirm the amount",
    0x01: "Please watch the PIN pad",
    0x02: "Please watch the PIN pad",
    0x03: "Not accepted",
    0x04: "Waiting for the bank",
    0x05: "Reversing",
    0x07: "Card not accepted",
    0x08: "Card unknown",
    0x09: "Card expired",
    0x0A: "Insert, tap or swipe card",
    0x0B: "Please remove card",
    0x0C: "Card not readable",
    0x0D: "Processing error",
    0x0E: "Please wait",
    0x0F: "Terminal closing the day",
    0x10: "Invalid card",
    0x13: "Payment not possible",
    0x14: "Credit not sufficient",
    0x15: "Incorrect PIN",
    0x17: "Please wait",
    0x18: "PIN try limit exceeded",
    0x1B: "Approved",
    0x1C: "Approved",
    0x1D: "Declined",
    0x68: "Card detected",
    0xCC: "Please insert card and enter PIN",
    0xD2: "Connecting",
    0xD3: "Connected",
}

# Intermediate states during which the PT still waits for a card: Abort (06 B0) is allowed.
CARD_WAIT_STATES = frozenset({0x0A})

# Terminal status byte (Status Enquiry completion) → (ready, text).
TERMINAL_STATUS: dict[int, tuple[bool, str]] = {
    0x00: (True, "ready"),
    0x51: (False, "initialisation required"),
    0x62: (False, "date/time incorrect"),
    0x9C: (False, "please wait"),
    0xB1: (False, "memory full: end-of-day needed"),
    0xC2: (False, "diagnosis required"),
    0xDC: (False, "card inserted"),
    0xDF: (False, "out of order"),
    0xE0: (False, "remote maintenance"),
    0xE2: (False, "card reader defective"),
    0xE4: (False, "terminal activation required"),
    0xF0: (False, "reconciliation required: run end-of-day"),
}


def intermediate_text(status: int) -> str:
    return INTERMEDIATE_TEXTS.get(status, "Please follow the terminal")


def terminal_status(code: int) -> tuple[bool, str]:
    return TERMINAL_STATUS.get(code, (False, f"terminal status {code:02X}"))


# ZVT card-type id (BMP 8A) → the brand slot of the end-of-day totals (BMP 60).
CARD_TYPE_BRANDS: dict[int, str] = {
    0x05: "girocard",
    0x06: "Mastercard",
    0x08: "Amex",
    0x0A: "VISA",
    0x0C: "Diners",
    0x0E: "JCB",
}
EOD_OTHERS = "others"
EOD_BRANDS = ("girocard", "JCB", "Mastercard", "Amex", "VISA", "Diners", EOD_OTHERS)


def totals_brand(card_brand: str | None) -> str:
    """The end-of-day slot a booked card brand counts in."""
    return card_brand if card_brand in EOD_BRANDS else EOD_OTHERS


CURRENCIES: dict[str, int] = {
    "EUR": 978,
    "CHF": 756,
    "GBP": 826,
    "USD": 840,
    "SEK": 752,
    "DKK": 208,
    "NOK": 578,
    "PLN": 985,
    "CZK": 203,
    "HUF": 348,
}
CURRENCY_CODES = {number: alpha for alpha, number in CURRENCIES.items()}


def currency_number(currency: str) -> int:
    try:
        return CURRENCIES[currency.upper()]
    except KeyError:
        raise ValueError(f"currency {currency!r}: not one of {', '.join(CURRENCIES)}") from None
