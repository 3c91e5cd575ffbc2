"""What a connector offers: its tariff, frozen as JSON, with the price lines and the hold."""

from __future__ import annotations

import json
from decimal import Decimal

from kiosk.session.model import Offer
from kiosk.snapshot import PriceLine
from kiosk.tariff import PRICE_LANGUAGES, Tariff, hold_amount, parse_tariff, price_lines
from kiosk.tariff.jsonio import dumps as tariff_dumps


def offer_for(tariff: Tariff, configured_hold_minor: int, lang: str) -> Offer:
    rates = tariff.vat_rates()
    # The engine words prices in the languages it knows; a station whose first language is
    # another one (the screen translates from the numbers) gets the English wording here.
    wording = lang if lang in PRICE_LANGUAGES else "en"
    lines = tuple(
        PriceLine(
            dimension=line.kind.lower(),
            text=line.text,  # already carries the conditions ("Mo–Fr, 17:00–21:00")
            price_incl_vat=line.unit_price_incl_vat.amount,
            currency=tariff.currency,
            vat_percent=line.vat_percent,
        )
        for line in price_lines(tariff, wording)
    )
    return Offer(
        tariff_id=tariff.id,
        tariff_json=tariff_dumps(dict(tariff.raw), indent=None),
        currency=tariff.currency,
        hold_minor=hold_amount(tariff, configured_hold_minor),
        price_lines=lines,
        vat_percent=next(iter(rates)) if len(rates) == 1 else None,
    )


def tariff_of(offer_json: str) -> Tariff:
    """The frozen tariff back from a session's snapshot (numbers stay Decimal)."""
    return parse_tariff(json.loads(offer_json, parse_float=Decimal))
