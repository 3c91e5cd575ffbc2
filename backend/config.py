"""Service settings: one frozen value built by the CLI or a test, handed to create_app."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


DEFAULT_DB_URL = "sqlite:///evkiosk-backend.db"


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    # The address drivers' phones reach; links and receipt URLs are built from it.
    public_url: str = "http://127.0.0.1:8800"
    # A pending link nobody paid expires after this.
    link_ttl: timedelta = timedelta(minutes=15)
    # An authorised hold whose session never gets reported is released after this. Card-not-
    # present authorisations live about 7 days at the schemes; release well before that.
    hold_ttl: timedelta = timedelta(hours=48)
    # How often the background sweep looks for expired links and stale holds.
    sweep_interval_s: float = 30.0
    # Longest long-poll a station may ask for (?wait=).
    max_wait_s: float = 60.0
    # Request bodies above this are refused with 413 before they are parsed.
    max_body_bytes: int = 512 * 1024
    # "sandbox" (built-in test cards) or "stripe".
    gateway: str = "sandbox"
    stripe_api_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = "https://api.stripe.com"
    # The publishable key (pk_...) Stripe.js needs for the pay page's wallet buttons (Apple Pay,
    # Google Pay); without it the page offers only Stripe's hosted checkout.
    stripe_publishable_key: str = ""
    webhook_tolerance_s: int = 300
    operator_name: str = "evkiosk operator"
    # A capture its provider has not settled this long after it, while the provider has
    # booked later lines, is reported as captured but never settled.
    settle_within: timedelta = timedelta(days=2)
    clock: Clock = field(default=utc_now)

    def now(self) -> datetime:
        return self.clock()


# Worker processes started by uvicorn get their settings through this environment variable.
SETTINGS_ENV = "EVKIOSK_BACKEND_SETTINGS"
_PLAIN = ("db_url", "public_url", "gateway", "stripe_api_base", "operator_name", "max_body_bytes")


def settings_to_env(settings: Settings) -> str:
    """The settings a worker needs, as JSON (Stripe secrets stay in their own variables)."""
    data: dict[str, object] = {name: getattr(settings, name) for name in _PLAIN}
    data["link_ttl_s"] = settings.link_ttl.total_seconds()
    data["hold_ttl_s"] = settings.hold_ttl.total_seconds()
    return json.dumps(data)


def settings_from_env() -> Settings:
    data = json.loads(os.environ[SETTINGS_ENV])
    return Settings(
        **{name: data[name] for name in _PLAIN},
        link_ttl=timedelta(seconds=data["link_ttl_s"]),
        hold_ttl=timedelta(seconds=data["hold_ttl_s"]),
        stripe_api_key=os.environ.get("EVKIOSK_STRIPE_API_KEY", ""),
        stripe_webhook_secret=os.environ.get("EVKIOSK_STRIPE_WEBHOOK_SECRET", ""),
        stripe_publishable_key=os.environ.get("EVKIOSK_STRIPE_PUBLISHABLE_KEY", ""),
    )
