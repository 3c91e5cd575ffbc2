"""Import what payment providers say they booked and paid out.

- Stripe: balance transactions (charges, refunds, disputes, fees) and payouts through its API.
- Card acquirers: settlement files (CSV); the columns of each acquirer's format are data
  (backend/settlement_formats/*.json), so a new acquirer is a new file, not new code.

Every line is stored once per provider and external id: importing a file or a period twice
adds nothing. Lines are tied to our payments here; the checks are in settlement_checks.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db import Database
from backend.gateways.stripe import StripeGateway
from backend.models import ChargingSession, Payment, Payout, SettlementRecord
from kiosk.money import Money, minor_unit_exponent

FORMATS_DIR = Path(__file__).parent / "settlement_formats"
KINDS = ("charge", "refund", "dispute", "fee", "payout", "other")
MAX_FILE_BYTES = 20 * 1024 * 1024


class SettlementFileError(ValueError):
    """A settlement file that does not fit its format; the message names line and column."""


def format_names() -> list[str]:
    return sorted(p.stem for p in FORMATS_DIR.glob("*.json") if p.stem != "stripe")


def load_format(name: str) -> dict[str, Any]:
    if name not in [*format_names(), "stripe"]:
        raise SettlementFileError(
            f"acquirer: unknown format {name!r} ({', '.join(format_names())})"
        )
    data: dict[str, Any] = json.loads((FORMATS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


def agreed_fee_minor(fmt: dict[str, Any], gross_minor: int, currency: str) -> int | None:
    """The fee the operator agreed with the provider for a charge, rounded by the one rule."""
    fee = fmt.get("agreed_fee")
    if not fee:
        return None
    gross = Money.from_minor(abs(gross_minor), currency).amount
    amount = gross * Decimal(fee["percent"]) / 100 + Decimal(fee["fixed"])
    return Money(amount, currency).to_minor()


@dataclass(frozen=True)
class Line:
    external_id: str
    kind: str
    booked_at: datetime
    currency: str
    gross_minor: int
    fee_minor: int
    net_minor: int
    reference: str | None
    terminal_id: str | None
    receipt_no: int | None
    payout_ref: str | None


def _minor(text: str, decimal: str, currency: str, where: str) -> int:
    raw = (text or "").strip().replace(" ", "")
    if not raw:
        return 0
    if decimal == ",":
        raw = raw.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise SettlementFileError(f"{where}: {text!r} is not an amount") from None
    money = Money(amount, currency)
    if not money.is_rounded():
        raise SettlementFileError(f"{where}: {text!r} has more decimals than {currency}")
    return money.to_minor()


def _signed(
    row: dict[str, str], spec: dict[str, str], fmt: dict[str, Any], cur: str, where: str
) -> int:
    if "amount" in spec:
        return _minor(row.get(spec["amount"], ""), fmt["decimal"], cur, f"{where} {spec['amount']}")
    credit = _minor(row.get(spec["credit"], ""), fmt["decimal"], cur, f"{where} {spec['credit']}")
    debit = _minor(row.get(spec["debit"], ""), fmt["decimal"], cur, f"{where} {spec['debit']}")
    return credit - debit


def _when(row: dict[str, str], fmt: dict[str, Any], where: str) -> datetime:
    text = (row.get(fmt["date_column"]) or "").strip()
    try:
        naive = datetime.strptime(text, fmt["date_format"])  # noqa: DTZ007 (zone below)
    except ValueError:
        raise SettlementFileError(
            f"{where} {fmt['date_column']}: {text!r} is not a date like {fmt['date_format']}"
        ) from None
    zone = fmt.get("timezone")
    if fmt.get("timezone_column"):
        zone = (row.get(fmt["timezone_column"]) or "").strip() or zone
    try:
        tz = ZoneInfo(zone or "UTC")
    except (KeyError, ValueError):
        raise SettlementFileError(f"{where} time zone: {zone!r} is unknown") from None
    return naive.replace(tzinfo=tz).astimezone(UTC)


def parse_file(fmt: dict[str, Any], data: bytes) -> list[Line]:
    """The lines of an acquirer's settlement file, or SettlementFileError naming the place."""
    if len(data) > MAX_FILE_BYTES:
        raise SettlementFileError(f"file: larger than {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")  # German acquirers' exports are often Windows-1252
    reader = csv.DictReader(io.StringIO(text), delimiter=fmt["delimiter"])
    needed = [fmt["date_column"], fmt["type_column"], fmt["currency_column"], *fmt["id_columns"]]
    missing = [c for c in needed if c not in (reader.fieldnames or [])]
    if missing:
        raise SettlementFileError(f"header: column(s) {', '.join(missing)} missing")
    lines = []
    for n, row in enumerate(reader, start=2):
        where = f"line {n}"
        cur = (row.get(fmt["currency_column"]) or "").strip().upper()
        try:
            minor_unit_exponent(cur)
        except ValueError:
            raise SettlementFileError(f"{where} {fmt['currency_column']}: {cur!r}") from None
        kind = fmt["types"].get((row.get(fmt["type_column"]) or "").strip(), "other")
        gross = _signed(row, fmt["gross"], fmt, cur, where)
        net = _signed(row, fmt["net"], fmt, cur, where)
        fee = sum(
            abs(_minor(row.get(c, ""), fmt["decimal"], cur, f"{where} {c}"))
            for c in fmt.get("fee_columns", [])
        )
        receipt = (row.get(fmt.get("receipt_column") or "") or "").strip()
        ident = "|".join((row.get(c) or "").strip() for c in fmt["id_columns"])
        lines.append(
            Line(
                external_id=ident,
                kind=kind,
                booked_at=_when(row, fmt, where),
                currency=cur,
                gross_minor=gross,
                fee_minor=fee,
                net_minor=net,
                reference=(row.get(fmt.get("reference_column") or "") or "").strip() or None,
                terminal_id=(row.get(fmt.get("terminal_column") or "") or "").strip() or None,
                receipt_no=int(receipt) if receipt.isdigit() else None,
                payout_ref=(row.get(fmt.get("payout_column") or "") or "").strip() or None,
            )
        )
    return lines


def _match(s: Session, line: Line) -> int | None:
    """The id of our payment a provider's line is about, if any."""
    if line.terminal_id and line.receipt_no is not None:
        return s.scalar(
            select(Payment.id)
            .where(
                Payment.method == "card",
                Payment.terminal_id == line.terminal_id,
                Payment.receipt_no == line.receipt_no,
                Payment.created_at <= line.booked_at + timedelta(days=1),
            )
            .order_by(Payment.created_at.desc())
            .limit(1)
        )
    if not line.reference:
        return None
    found = s.scalar(select(Payment.id).where(Payment.gateway_ref == line.reference).limit(1))
    if found is not None:
        return found
    # A merchant reference carrying the kiosk's session id.
    return s.scalar(
        select(Payment.id)
        .join(ChargingSession, ChargingSession.pk == Payment.session_pk)
        .where(ChargingSession.session_id == line.reference)
        .order_by(Payment.id)
        .limit(1)
    )


def store(db: Database, provider: str, lines: list[Line], source: str, now: datetime) -> int:
    """Store the lines not seen before (payout lines as payouts); returns how many were new."""
    new = 0
    with db.session() as s:
        for line in lines:
            if line.kind == "payout":
                ext = line.payout_ref or line.external_id
                if s.scalar(
                    select(Payout.id).where(Payout.provider == provider, Payout.external_id == ext)
                ):
                    continue
                s.add(
                    Payout(
                        provider=provider,
                        external_id=ext,
                        amount_minor=-line.net_minor if line.net_minor < 0 else line.net_minor,
                        currency=line.currency,
                        paid_at=line.booked_at,
                        status="paid",
                        imported_at=now,
                    )
                )
                new += 1
                continue
            exists = s.scalar(
                select(SettlementRecord.id).where(
                    SettlementRecord.provider == provider,
                    SettlementRecord.external_id == line.external_id,
                )
            )
            if exists:
                continue
            s.add(
                SettlementRecord(
                    provider=provider,
                    external_id=line.external_id[:255],
                    kind=line.kind,
                    booked_at=line.booked_at,
                    currency=line.currency,
                    gross_minor=line.gross_minor,
                    fee_minor=line.fee_minor,
                    net_minor=line.net_minor,
                    reference=line.reference,
                    terminal_id=line.terminal_id,
                    receipt_no=line.receipt_no,
                    payout_ref=line.payout_ref,
                    payment_id=_match(s, line),
                    source=source[:255],
                    imported_at=now,
                )
            )
            new += 1
    return new


def import_file(db: Database, fmt_name: str, data: bytes, source: str, now: datetime) -> int:
    fmt = load_format(fmt_name)
    return store(db, fmt["provider"], parse_file(fmt, data), source, now)


# --------------------------------------------------------------------------- Stripe

_STRIPE_KINDS = {
    "charge": "charge",
    "payment": "charge",
    "refund": "refund",
    "payment_refund": "refund",
    "adjustment": "dispute",  # disputes and their reversals are booked as adjustments
    "stripe_fee": "fee",
    "payout": "payout",
}


def _stripe_pages(
    gw: StripeGateway, path: str, params: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = gw.get(
            path, [*params, ("limit", "100"), *([("starting_after", after)] if after else [])]
        )
        data = page.get("data", [])
        items.extend(data)
        if not page.get("has_more") or not data:
            return items
        after = str(data[-1]["id"])


def stripe_lines(gw: StripeGateway, since: datetime) -> tuple[list[Line], list[dict[str, Any]]]:
    gte = ("created[gte]", str(int(since.timestamp())))
    txns = _stripe_pages(gw, "/v1/balance_transactions", [gte, ("expand[]", "data.source")])
    lines = []
    for t in txns:
        kind = _STRIPE_KINDS.get(t.get("type", ""), "other")
        if kind == "payout":
            continue  # the payout itself comes from /v1/payouts
        source = t.get("source")
        src = source if isinstance(source, dict) else {"id": source}
        if t.get("reporting_category") == "dispute" or src.get("object") == "dispute":
            kind = "dispute"
        lines.append(
            Line(
                external_id=str(src.get("id") or t["id"]),
                kind=kind,
                booked_at=datetime.fromtimestamp(int(t["created"]), UTC),
                currency=str(t["currency"]).upper(),
                gross_minor=int(t["amount"]),
                fee_minor=int(t["fee"]),
                net_minor=int(t["net"]),
                reference=src.get("payment_intent"),
                terminal_id=None,
                receipt_no=None,
                payout_ref=t.get("payout"),
            )
        )
    payouts = _stripe_pages(gw, "/v1/payouts", [gte])
    return lines, payouts


def import_stripe(db: Database, gw: StripeGateway, since: datetime, now: datetime) -> int:
    lines, payouts = stripe_lines(gw, since)
    new = store(db, "stripe", lines, "stripe api", now)
    payout_lines = [
        Line(
            external_id=str(p["id"]),
            kind="payout",
            booked_at=datetime.fromtimestamp(int(p.get("arrival_date") or p["created"]), UTC),
            currency=str(p["currency"]).upper(),
            gross_minor=int(p["amount"]),
            fee_minor=0,
            net_minor=int(p["amount"]),
            reference=None,
            terminal_id=None,
            receipt_no=None,
            payout_ref=str(p["id"]),
        )
        for p in payouts
        if p.get("status") in ("paid", "in_transit")
    ]
    return new + store(db, "stripe", payout_lines, "stripe api", now)
