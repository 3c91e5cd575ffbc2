"""Payment gateways: where a QR-link hold is placed, captured and released."""

from backend.gateways.base import (
    Authorization,
    CardDetails,
    CardFieldError,
    Gateway,
    GatewayError,
)

__all__ = ["Authorization", "CardDetails", "CardFieldError", "Gateway", "GatewayError"]
