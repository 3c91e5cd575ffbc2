"""Request bodies of the station API (pydantic). Amounts are integers in minor units."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from itertools import product
from string import ascii_uppercase
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt

from kiosk.money import minor_unit_exponent

# Up to 10 million in major units of a 2-decimal currency: far above any charging session,
# and far below where an int64 column or a JavaScript client would lose digits.
MAX_AMOUNT = 1_000_000_000
Amount = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT)]
Wh = Annotated[StrictInt, Field(ge=0, le=10**15)]
Ident = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9._:\-]+$")]
SessionId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")]
# At most the first 6 and the last 4 digits visible; the rest masked.
MASKED_PAN = re.compile(r"^\d{0,6}[*Xx•]{2,13}\d{0,4}$")


def _currency(value: str) -> str:
    try:
        minor_unit_exponent(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


def _masked_pan(value: str | None) -> str | None:
    if value is not None and not MASKED_PAN.match(value):
        raise ValueError("must be masked: at most the first 6 and last 4 digits visible")
    return value


# Times a charging station can report: far outside these is a broken clock, not a session.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone (use UTC, e.g. 2026-01-31T12:00:00Z)")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return utc


def _known_currencies() -> list[str]:
    found = []
    for code in ("".join(c) for c in product(ascii_uppercase, repeat=3)):
        try:
            minor_unit_exponent(code)
        except ValueError:
            continue
        found.append(code)
    return found


# Listed in the OpenAPI schema so clients (and schema-driven tests) know the valid values.
CURRENCIES = _known_currencies()
TIME_ZONES = sorted(z for z in available_timezones() if len(z) <= 64)

Currency = Annotated[
    str,
    Field(min_length=3, max_length=3, json_schema_extra={"enum": CURRENCIES}),
    AfterValidator(_currency),
]
TimeZone = Annotated[
    str,
    Field(min_length=1, max_length=64, json_schema_extra={"enum": TIME_ZONES}),
    AfterValidator(_time_zone),
]
MaskedPan = Annotated[str | None, Field(default=None, max_length=19), AfterValidator(_masked_pan)]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
Short = Annotated[str, Field(max_length=32)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaymentLinkCreate(Strict):
    connector_id: Ident
    amount: Annotated[StrictInt, Field(ge=1, le=MAX_AMOUNT)] = Field(
        description="hold amount in minor units"
    )
    currency: Currency
    tariff: dict[str, Any] = Field(description="OCPI tariff object (2.2.1 or 2.3.0)")
    time_zone: TimeZone = "UTC"


class LinkPayment(Strict):
    method: Literal["link"]
    link_id: Annotated[str, Field(min_length=1, max_length=64)]


class CardPayment(Strict):
    method: Literal["card"]
    terminal_id: Annotated[str, Field(min_length=1, max_length=16)]
    receipt_no: Annotated[StrictInt, Field(ge=0, le=99_999_999)] | None = None
    trace_no: Annotated[StrictInt, Field(ge=0, le=99_999_999)] | None = None
    auth_code: Annotated[str, Field(max_length=16)] | None = None
    card_brand: Short | None = None
    masked_pan: MaskedPan = None
    authorized_amount: Amount
    captured_amount: Amount | None = None
    status: Literal["authorized", "captured", "released"] = "captured"


class NoPayment(Strict):
    method: Literal["none"]


class CsmsPayment(Strict):
    """Paid on the operator's side (OCPP 2.1 C25): the CSMS started the session with its
    payment's reference and its PSP takes the money; nothing to capture here."""

    method: Literal["csms"]
    psp_ref: Annotated[str, Field(min_length=1, max_length=255)]


class OcmfIn(Strict):
    """A signed meter record (OCMF) of the session, or the kiosk's note that none came."""

    meter_serial: Annotated[str, Field(min_length=1, max_length=64)]
    pagination: Annotated[str, Field(max_length=16)] | None = None
    record: Annotated[str, Field(max_length=65_536)] | None = None
    public_key: Annotated[str, Field(max_length=512)] | None = None
    signed: StrictBool
    energy_wh: Annotated[StrictInt, Field(ge=0, le=10**12)]
    flags: list[Annotated[str, Field(max_length=32)]] = Field(default_factory=list, max_length=10)
    detail: Annotated[str, Field(max_length=2000)] = ""


class SessionReport(Strict):
    session_id: SessionId
    connector_id: Ident
    start_date_time: AwareDatetime
    end_date_time: AwareDatetime
    meter_start_wh: Wh
    meter_end_wh: Wh
    currency: Currency
    time_zone: TimeZone = "UTC"
    tariff: dict[str, Any]
    total_cost: Amount = Field(description="the cost the kiosk computed, minor units incl. VAT")
    charging_periods: list[dict[str, Any]] | None = Field(
        default=None, max_length=2000, description="OCPI ChargingPeriod objects"
    )
    cdr: dict[str, Any] = Field(default_factory=dict, description="further OCPI CDR fields")
    payment: Annotated[
        LinkPayment | CardPayment | NoPayment | CsmsPayment, Field(discriminator="method")
    ]
    ocmf: list[OcmfIn] = Field(default_factory=list, max_length=20)


class PaymentReport(Strict):
    """A card payment the kiosk settled outside a completed session (e.g. a reversal after
    a failed start, or a hold found open at start-up)."""

    payment: CardPayment
    currency: Currency
    session_id: SessionId | None = None
    occurred_at: AwareDatetime


class CardRefundReport(Strict):
    """A card-present refund (ZVT 06 31) the kiosk made from its service menu for a session."""

    session_id: SessionId
    amount: Amount
    currency: Currency
    terminal_id: Annotated[str, Field(min_length=1, max_length=16)]
    receipt_no: Annotated[StrictInt, Field(ge=0, le=99_999_999)]
    trace_no: Annotated[StrictInt, Field(ge=0, le=99_999_999)] | None = None
    occurred_at: AwareDatetime


class BrandTotalIn(Strict):
    brand: Short
    count: Annotated[StrictInt, Field(ge=0, le=10**7)]
    amount: Amount


class TerminalTotalsReport(Strict):
    terminal_id: Annotated[str, Field(min_length=1, max_length=16)]
    closed_at: AwareDatetime
    currency: Currency
    total: Amount
    count: Annotated[StrictInt, Field(ge=0, le=10**7)] | None = None
    receipt_from: Annotated[StrictInt, Field(ge=0, le=99_999_999)] | None = None
    receipt_to: Annotated[StrictInt, Field(ge=0, le=99_999_999)] | None = None
    trace_no: Annotated[StrictInt, Field(ge=0, le=99_999_999)] | None = None
    brands: list[BrandTotalIn] = Field(default_factory=list, max_length=50)


# --------------------------------------------------------------------------- answers


class ErrorBody(BaseModel):
    detail: str | list[dict[str, Any]]


class LinkOut(BaseModel):
    id: str
    url: str
    status: Literal["pending", "authorized", "expired", "cancelled", "captured", "released"]
    expires_at: str
    amount: int
    currency: str
    connector_id: str
    created_at: str
    authorized_at: str | None
    declines: int
    last_decline: str | None


class SessionAck(BaseModel):
    session_id: str
    status: Literal["accepted"]
    computed_cost: int
    reported_cost: int
    cost_mismatch: bool
    currency: str
    receipt_url: str
    payment_status: str
    hold: int | None = None
    captured: int | None = None
    released: int | None = None
    link_status: str | None = None


class ReportAck(BaseModel):
    status: str
    payment_id: int | None = None
    totals_id: int | None = None
    refund_id: int | None = None


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error answers an operation can give."""
    text = {
        401: "missing or invalid API key",
        404: "no such record for this station",
        409: "the record's state does not allow this",
        413: "request body too large",
        422: "invalid request (the detail names the field)",
        503: "not answerable yet (gateway, or a first report still settling): retry",
    }
    return {code: {"model": ErrorBody, "description": text[code]} for code in codes}
