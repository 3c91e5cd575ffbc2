"""A session's trail as one list in time order, in the operator's language.

The station's report carries no journal events of the kiosk (backend.schemas.SessionReport):
the trail is built from what it does carry and what the backend recorded about the session:
tariff snapshot, meter readings and charging periods, signed meter records, terminal and
gateway records, the report itself, settlement lines, refunds, resolved findings and audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from backend import phone_format
from backend.books import Finding
from backend.db import Database
from backend.models import OcmfStored

EVENTS: dict[str, dict[str, str]] = {
    "en": {
        "tariff": "Tariff snapshot {tariff} ({currency}) fixed",
        "link": "Payment link {ref} for a hold of {amount} ({provider})",
        "link_authorized": "Hold of {amount} authorised on the payment page",
        "start": "Charging started, meter at {wh} Wh",
        "period": "Charging period: {dims}",
        "end": "Charging ended, meter at {wh} Wh ({kwh} kWh)",
        "ocmf": "Signed meter record {ref}: {result}",
        "terminal": (
            "Terminal {terminal} pre-authorised {amount} (receipt {receipt}, trace {trace})"
        ),
        "terminal_capture": "Terminal booked {amount} (receipt {receipt})",
        "gateway": "{provider} hold of {amount} ({ref})",
        "gateway_capture": "{provider} captured {amount}",
        "released": "Hold released",
        "report": "Station reported the session: cost {reported}, recomputed {computed}",
        "settlement": "{provider} booked {kind} {amount}, fee {fee}{payout}",
        "refund": "Refund of {amount} by {actor} ({status}): {reason}",
        "resolution": "{finding} resolved by {actor}: {note}",
        "audit": "{action} by {actor}",
        "verified": "verified",
        "not_verified": "does not verify",
        "payout": ", payout {ref}",
    },
    "de": {
        "tariff": "Tarif {tariff} ({currency}) festgehalten",
        "link": "Zahlungslink {ref} für eine Reservierung über {amount} ({provider})",
        "link_authorized": "Reservierung über {amount} auf der Zahlseite freigegeben",
        "start": "Laden begonnen, Zähler bei {wh} Wh",
        "period": "Ladeperiode: {dims}",
        "end": "Laden beendet, Zähler bei {wh} Wh ({kwh} kWh)",
        "ocmf": "Signierter Zählerdatensatz {ref}: {result}",
        "terminal": "Terminal {terminal} reservierte {amount} (Beleg {receipt}, Trace {trace})",
        "terminal_capture": "Terminal buchte {amount} (Beleg {receipt})",
        "gateway": "{provider}: Reservierung über {amount} ({ref})",
        "gateway_capture": "{provider} zog {amount} ein",
        "released": "Reservierung freigegeben",
        "report": "Station meldete den Ladevorgang: Kosten {reported}, nachberechnet {computed}",
        "settlement": "{provider} buchte {kind} {amount}, Gebühr {fee}{payout}",
        "refund": "Erstattung über {amount} durch {actor} ({status}): {reason}",
        "resolution": "{finding} geklärt durch {actor}: {note}",
        "audit": "{action} durch {actor}",
        "verified": "geprüft",
        "not_verified": "nicht prüfbar",
        "payout": ", Auszahlung {ref}",
    },
}


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    text: str


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _parse(text: object) -> datetime | None:
    try:
        return _aware(datetime.fromisoformat(str(text).replace("Z", "+00:00")))
    except ValueError:
        return None


def _dims(period: dict[str, Any]) -> str:
    parts = []
    for d in period.get("dimensions") or []:
        if isinstance(d, dict):
            parts.append(f"{d.get('type', '?')} {d.get('volume', '?')}")
    return ", ".join(parts) or "-"


def events(db: Database, trail: dict[str, Any], findings: list[Finding], lang: str) -> list[Event]:
    """Everything on record about the session, oldest first (ties keep the order above)."""
    tx = EVENTS.get(lang, EVENTS["en"])
    s = trail["session"]

    def money(minor: int | None, currency: str = s.currency) -> str:
        return "-" if minor is None else phone_format.money_minor(minor, currency, lang)

    out: list[Event] = []

    def add(at: datetime | None, event: str, **fields: Any) -> None:
        if at is not None:
            out.append(Event(_aware(at), event, tx[event].format(**fields)))

    link = trail["link"]
    tariff_id = str((s.tariff or {}).get("id", "-"))
    add(link.created_at if link else s.started_at, "tariff", tariff=tariff_id, currency=s.currency)
    if link is not None:
        amount = money(link.amount_minor, link.currency)
        add(link.created_at, "link", ref=link.id, amount=amount, provider=link.gateway)
        add(link.authorized_at, "link_authorized", amount=amount)
    add(s.started_at, "start", wh=s.meter_start_wh)
    for period in (s.cdr or {}).get("charging_periods") or []:
        if isinstance(period, dict):
            add(_parse(period.get("start_date_time")), "period", dims=_dims(period))
    kwh = (Decimal(s.meter_end_wh - s.meter_start_wh) / 1000).quantize(Decimal("0.001"))
    kwh_text = str(kwh).replace(".", ",") if lang == "de" else str(kwh)
    add(s.ended_at, "end", wh=s.meter_end_wh, kwh=kwh_text)
    with db.read() as db_s:
        signed = list(
            db_s.scalars(
                select(OcmfStored).where(OcmfStored.session_pk == s.pk).order_by(OcmfStored.pk)
            )
        )
    for o in signed:
        ref = f"{o.meter_serial} T{o.transaction_no}" if o.transaction_no else o.meter_serial
        result = tx["verified"] if o.verified else f"{tx['not_verified']} ({o.problems})"
        add(o.received_at, "ocmf", ref=ref, result=result)
    for p in trail["payments"]:
        if p.method == "card":
            add(
                p.created_at,
                "terminal",
                terminal=p.terminal_id,
                amount=money(p.authorized_minor, p.currency),
                receipt=p.receipt_no,
                trace=p.trace_no,
            )
            if p.captured_minor is not None:
                add(
                    p.captured_at or p.created_at,
                    "terminal_capture",
                    amount=money(p.captured_minor, p.currency),
                    receipt=p.receipt_no,
                )
        else:
            provider = p.gateway or "-"
            amount = money(p.authorized_minor, p.currency)
            add(p.created_at, "gateway", provider=provider, amount=amount, ref=p.gateway_ref)
            if p.captured_minor is not None and p.captured_at is not None:
                add(
                    p.captured_at,
                    "gateway_capture",
                    provider=provider,
                    amount=money(p.captured_minor, p.currency),
                )
        if p.released:
            add(p.captured_at or p.created_at, "released")
    add(s.created_at, "report", reported=money(s.reported_minor), computed=money(s.computed_minor))
    for x in trail["settlement"]:
        payout = tx["payout"].format(ref=x.payout_ref) if x.payout_ref else ""
        add(
            x.booked_at,
            "settlement",
            provider=x.provider,
            kind=x.kind,
            amount=money(x.gross_minor, x.currency),
            fee=money(x.fee_minor, x.currency),
            payout=payout,
        )
    for r in trail["refunds"]:
        add(
            r.created_at,
            "refund",
            amount=money(r.amount_minor, r.currency),
            actor=r.actor,
            status=r.status,
            reason=r.reason,
        )
    for f in findings:
        for n in f.notes:
            add(n.created_at, "resolution", finding=f.text(lang), actor=n.actor, note=n.note)
    for a in trail["audit"]:
        add(a.at, "audit", action=a.action, actor=a.actor)
    return sorted(out, key=lambda e: e.at)  # stable: ties keep the order they were added in


def session_findings(all_findings: list[Finding], session_pk: int) -> list[Finding]:
    """The findings that name this session among their records."""
    return [f for f in all_findings if any(r.get("session_pk") == session_pk for r in f.records)]
