"""The gateway seam: hold, capture part of it, release it. Amounts are integer minor units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class GatewayError(Exception):
    """The gateway did not do what was asked (network, refusal, bad state). Retry later."""


class CardFieldError(ValueError):
    """A card form field is unusable; `field` is the label the driver sees."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CardDetails:
    """What the pay form posted. Lives only for the duration of one request; never stored."""

    number: str
    expiry: str
    cvc: str


@dataclass(frozen=True)
class Authorization:
    approved: bool
    reference: str | None  # the gateway's hold id when approved
    decline_code: str  # "" when approved; Stripe's decline codes otherwise
    masked_pan: str
    brand: str


class Gateway(Protocol):
    name: str

    def capture(self, reference: str, amount_minor: int, idempotency_key: str) -> int:
        """Capture amount_minor (≤ the hold) and release the rest; returns the captured amount."""
        ...

    def release(self, reference: str, idempotency_key: str) -> None:
        """Give the whole hold back. Releasing an already released hold is not an error."""
        ...

    def refund(self, reference: str, amount_minor: int, idempotency_key: str) -> str:
        """Give amount_minor of a capture back; returns the gateway's refund id. A retry with
        the same key answers with the first refund."""
        ...
