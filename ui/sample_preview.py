"""The example screens of ui/preview.py with the sample station and tariff (assets/samples):
its name, connectors, labels, price lines, holds and timeouts, and costs the tariff engine's
prices give. The documentation's screenshots are made from these."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.config import load_config
from kiosk.money import round_amount
from kiosk.runtime.offers import offer_for
from kiosk.snapshot import (
    Amount,
    ConnectorStatus,
    ConnectorTile,
    CostLine,
    Countdown,
    CountdownKind,
    PriceLine,
    StationSnapshot,
    VatLine,
)
from kiosk.tariff import price_now
from kiosk.tariff.parse import load_tariff
from ui import preview

SAMPLE = Path(__file__).resolve().parent.parent / "assets" / "samples" / "station.toml"
LINK_TTL = timedelta(minutes=15)  # the backend's default payment link lifetime


def _gross_cost(lines: tuple[PriceLine, ...], energy_wh: int, currency: str) -> int:
    """Energy at the unrestricted per-kWh price plus the session fee, rounded once."""
    energy = next(
        (line for line in reversed(lines) if line.dimension == "energy"), None
    )  # the last energy line is the one without conditions
    flat = next((line for line in lines if line.dimension == "flat"), None)
    total = Decimal(energy_wh) / 1000 * (energy.price_incl_vat if energy else Decimal(0))
    total += flat.price_incl_vat if flat else Decimal(0)
    return int(round_amount(total, currency) * 100)


def _as_in_example(own: ConnectorTile, example: ConnectorTile) -> ConnectorTile:
    """The sample station's tile in the state of the example's tile with the same id."""
    return replace(
        own,
        status=example.status,
        status_reason=example.status_reason,
        reason_code=example.reason_code,
        price=None if example.price is None else own.price,  # none while the station starts
        session_id=example.session_id,
        web_pay_url=example.web_pay_url,
        web_paying_until=example.web_paying_until,
    )


def sample_screens(config_path: Path = SAMPLE) -> dict[str, StationSnapshot]:
    config = load_config(config_path)
    first = config.connectors[0]
    first_tariff = load_tariff(first.tariff_path)
    offer = offer_for(first_tariff, first.hold_minor)
    offer_now = price_now(first_tariff, offer.price_lines, ZoneInfo(config.timezone), preview.NOW)
    currency = offer.currency
    policy = config.policy
    tiles = []
    for c in config.connectors:
        tariff = load_tariff(c.tariff_path)
        o = offer_for(tariff, c.hold_minor)
        price = price_now(tariff, o.price_lines, ZoneInfo(config.timezone), preview.NOW)
        tiles.append(
            ConnectorTile(
                c.id,
                c.label,
                c.type,
                c.max_kw,
                ConnectorStatus.AVAILABLE,
                price,
                labels=tuple(c.labels.items()),
            )
        )
    hold = Amount(offer.hold_minor, currency)
    live_cost = Amount(_gross_cost(offer.price_lines, preview.LIVE.energy_wh, currency), currency)
    total = _gross_cost(offer.price_lines, preview.RECEIPT.energy_wh, currency)
    vat = offer.vat_percent or Decimal(0)
    net = int((Decimal(total) * 100 / (100 + vat)).quantize(Decimal(1)))
    # The receipt's price components, each rounded by the one rule, add up to its total.
    energy_line = next((ln for ln in reversed(offer.price_lines) if ln.dimension == "energy"), None)
    flat_line = next((ln for ln in offer.price_lines if ln.dimension == "flat"), None)
    energy_cost = _gross_cost(
        tuple(x for x in (energy_line,) if x), preview.RECEIPT.energy_wh, currency
    )
    cost_lines = (CostLine("energy", Amount(energy_cost, currency)),)
    if flat_line is not None:
        cost_lines += (CostLine("fixed", Amount(total - energy_cost, currency)),)
    receipt = replace(
        preview.RECEIPT,
        cost_lines=cost_lines,
        total=Amount(total, currency),
        net=Amount(net, currency),
        vat_lines=(VatLine(vat, Amount(net, currency), Amount(total - net, currency)),),
        hold=hold,
        receipt_no=1,
    )
    # Countdowns as the station's timeouts make them, a few seconds after they started.
    left = {
        CountdownKind.PRICE_CONFIRM: policy.price_confirm_timeout - timedelta(seconds=6),
        CountdownKind.CARD_WAIT: policy.card_wait_timeout - timedelta(seconds=9),
        CountdownKind.PAYMENT_LINK: LINK_TTL - timedelta(seconds=13),
        CountdownKind.PLUG_IN: policy.plug_timeout - timedelta(seconds=15),
        CountdownKind.RECEIPT: policy.receipt_timeout - timedelta(seconds=8),
    }
    screens = {}
    for name, snap in preview.all_screens().items():
        by_id = {t.connector_id: t for t in snap.connectors}
        own = tuple(
            _as_in_example(t, by_id[t.connector_id]) if t.connector_id in by_id else t
            for t in tiles
        )
        focus = snap.focus
        if focus is not None:
            countdowns = tuple(
                c
                if name == "price_timeout_warning"
                else Countdown(c.kind, preview.NOW + left[c.kind], c.extendable)
                for c in focus.countdowns
            )
            link = focus.payment_link
            if link is not None:
                link = replace(link, expires_at=preview.NOW + left[CountdownKind.PAYMENT_LINK])
            focus = replace(
                focus,
                price_lines=offer.price_lines,
                price_now=offer_now if focus.price_now is not None else None,
                hold=hold,
                countdowns=countdowns,
                payment_link=link,
                live=replace(focus.live, cost=live_cost) if focus.live else None,
                receipt=receipt if focus.receipt else None,
            )
        screens[name] = replace(
            snap,
            station_name=config.name,
            locales=config.locales,
            connectors=own,
            focus=focus,
        )
    return screens
