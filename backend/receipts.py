"""Receipts: what `/r/{token}` shows, and the token, a random receipt id plus an HMAC of it.

The id alone is already unguessable; the MAC (server secret kept in the database) means a token
cannot be made up even by someone who learns how ids are formed, and lets the page refuse a
forged token before touching the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from backend import phone_format
from backend.db import Database
from backend.models import ChargingSession, Payment, Refund
from backend.ocmf import receipt_records
from backend.texts import OCMF_HOWTO
from kiosk.money import Money
from kiosk.tariff import TariffError, parse_tariff

SECRET_NAME = "receipt_hmac_key"  # noqa: S105 (the name of a secret, not a secret)


def new_receipt_id() -> str:
    return secrets.token_urlsafe(12)


def _mac(secret: str, receipt_id: str) -> str:
    digest = hmac.new(secret.encode(), receipt_id.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_for(secret: str, receipt_id: str) -> str:
    return f"{receipt_id}.{_mac(secret, receipt_id)}"


def receipt_id_of(secret: str, token: str) -> str | None:
    """The receipt id of a genuine token, else None."""
    receipt_id, sep, mac = token.partition(".")
    if not sep or not receipt_id or len(token) > 100:
        return None
    return receipt_id if hmac.compare_digest(mac, _mac(secret, receipt_id)) else None


LINES = (
    ("total_fixed_cost", "Session fee"),
    ("total_energy_cost", "Energy"),
    ("total_time_cost", "Charging time"),
    ("total_parking_cost", "Parking time"),
)


def _price(breakdown: dict[str, Any], key: str) -> tuple[Decimal, Decimal] | None:
    price = breakdown.get(key)
    if not isinstance(price, dict):
        return None
    return Decimal(str(price.get("excl_vat", 0))), Decimal(str(price.get("incl_vat", 0)))


def _vat_rates(tariff: dict[str, Any], lang: str) -> str:
    """'19 %' (or '19 %, 7 %'): the rates the tariff applies."""
    try:
        rates = sorted(parse_tariff(tariff).vat_rates(), reverse=True)
    except TariffError:
        return ""
    return ", ".join(phone_format.percent(r, lang) for r in rates)


def _payment_lines(pays: list[Payment], currency: str, lang: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for p in pays:
        fields: tuple[tuple[str, object], ...]
        if p.method == "card":
            out.append(("Method", "card terminal"))
            fields = (
                ("Terminal", p.terminal_id),
                ("Card", p.card_brand),
                ("Card number", p.masked_pan),
                ("Receipt no.", p.receipt_no),
                ("Trace no.", p.trace_no),
                ("Auth code", p.auth_code),
            )
        else:
            out += [("Method", "online payment"), ("Reference", p.gateway_ref or "")]
            fields = (("Card", p.card_brand), ("Card number", p.masked_pan))
        out += [(k, str(v)) for k, v in fields if v is not None and v != ""]
        if p.captured_minor is not None:
            out.append(("Charged", phone_format.money_minor(p.captured_minor, currency, lang)))
    return out


def _refund_lines(
    refunds: list[Refund], currency: str, zone: str, lang: str
) -> list[tuple[str, str]]:
    """Money given back after the session, one line per refund with its date."""
    return [
        (
            "Refunded" if r.status == "succeeded" else "Refund instructed",
            f"{phone_format.money_minor(r.amount_minor, currency, lang)}"
            f" ({phone_format.local_time(r.created_at, zone, lang)})",
        )
        for r in refunds
    ]


def receipt_id_for_kiosk_link(db: Database, session_id: str, sig: str) -> str | None:
    """The receipt of a kiosk-signed address `/r/k/{session id}/{sig}`, once the report that
    carries the same signature (cdr.kiosk_receipt.sig, an HMAC only that kiosk can make) has
    arrived; None before, and for any signature that does not match."""
    if not sig or len(sig) > 64:
        return None
    with db.read() as s:
        rows = s.execute(
            select(ChargingSession.receipt_id, ChargingSession.cdr).where(
                ChargingSession.session_id == session_id
            )
        ).all()
    for receipt_id, cdr in rows:
        stored = (cdr or {}).get("kiosk_receipt") if isinstance(cdr, dict) else None
        expected = stored.get("sig") if isinstance(stored, dict) else None
        if isinstance(expected, str) and hmac.compare_digest(expected, sig):
            return str(receipt_id)
    return None


def receipt_view(db: Database, receipt_id: str, lang: str) -> dict[str, Any] | None:
    """Everything the receipt page shows, amounts and times in ``lang``, or None for an
    unknown receipt."""
    with db.read() as s:
        row = (
            s.query(ChargingSession).filter(ChargingSession.receipt_id == receipt_id).one_or_none()
        )
        if row is None:
            return None
        pays = list(s.scalars(select(Payment).where(Payment.session_pk == row.pk)))
        refunds = list(
            s.scalars(
                select(Refund)
                .where(Refund.session_pk == row.pk, Refund.status.in_(("succeeded", "instructed")))
                .order_by(Refund.id)
            )
        )
        signed = receipt_records(s, row.pk)
    cur, b = row.currency, row.computed

    def _money(amount: Decimal, currency: str) -> str:
        return phone_format.money(amount, currency, lang)

    lines, net_sum, gross_sum = [], Decimal(0), Decimal(0)
    for key, name in LINES:
        price = _price(b, key)
        if price is not None:
            lines.append(
                {"name": name, "net": _money(price[0], cur), "gross": _money(price[1], cur)}
            )
            net_sum, gross_sum = net_sum + price[0], gross_sum + price[1]
    net, gross = _price(b, "total_cost") or (Decimal(0), Decimal(0))
    if (net, gross) != (net_sum, gross_sum):  # the tariff's min_price/max_price applied
        lines.append(
            {
                "name": "Minimum/maximum price adjustment",
                "net": _money(net - net_sum, cur),
                "gross": _money(gross - gross_sum, cur),
            }
        )
    captured = [p.captured_minor for p in pays if p.captured_minor is not None]
    if captured:
        charged = Money.from_minor(sum(captured), cur).amount
        if charged < gross:
            # The kiosk books no more than the driver confirmed at Stop (or the hold): the
            # receipt says what was left out, so its lines add up to what was charged.
            left_out = charged - gross
            net_left_out = Money(left_out * net / gross if gross else left_out, cur).rounded()
            lines.append(
                {
                    "name": "Not charged (after Stop, or above the reservation)",
                    "net": _money(net_left_out.amount, cur),
                    "gross": _money(left_out, cur),
                }
            )
            net, gross = net + net_left_out.amount, charged
    return {
        "session_id": row.session_id,
        "station_id": row.station_id,
        "connector_id": row.connector_id,
        "start": phone_format.local_time(row.started_at, row.time_zone, lang),
        "end": phone_format.local_time(row.ended_at, row.time_zone, lang),
        "energy": phone_format.number(
            Decimal(row.meter_end_wh - row.meter_start_wh) / 1000, 3, lang
        ),
        "lines": lines,
        "total_gross": _money(gross, cur),
        "total_net": _money(net, cur),
        "vat": _money(gross - net, cur),
        "vat_rates": _vat_rates(row.tariff, lang),
        "payment": _payment_lines(pays, cur, lang)
        + _refund_lines(refunds, cur, row.time_zone, lang),
        "ocmf": signed,
        "ocmf_howto": OCMF_HOWTO,
    }
