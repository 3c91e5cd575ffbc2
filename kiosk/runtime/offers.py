"""What a connector offers: its tariff, frozen as JSON, with the price lines and the hold."""

from __future__ import annotations

import json
from decimal import Decimal

from kiosk.session.model import Offer
from kiosk.tariff import Tariff, hold_amount, parse_tariff, price_lines
from kiosk.tariff.jsonio import dumps as tariff_dumps


def offer_for(tariff: Tariff, configured_hold_minor: int) -> Offer:
    """The offer a session freezes. Its price lines are data; each screen words them in its
    own language (kiosk.tariff.wording)."""
    rates = tariff.vat_rates()
    return Offer(
        tariff_id=tariff.id,
        tariff_json=tariff_dumps(dict(tariff.raw), indent=None),
        currency=tariff.currency,
        hold_minor=hold_amount(tariff, configured_hold_minor),
        price_lines=price_lines(tariff),
        vat_percent=next(iter(rates)) if len(rates) == 1 else None,
        alt_text=tariff.alt_text,
    )


def tariff_of(offer_json: str) -> Tariff:
    """The frozen tariff back from a session's snapshot (numbers stay Decimal)."""
    return parse_tariff(json.loads(offer_json, parse_float=Decimal))
