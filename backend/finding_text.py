"""A finding in the operator's words: its amounts as money in their locale, in English or
German, built from the records the finding names (the stored English message is the fallback).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend import phone_format

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "uncaptured_hold": "hold of {authorized} neither captured nor released",
        "captured_ne_computed": "captured {captured}, computed {computed}",
        "computed_gt_hold": "cost {computed} above the hold of {authorized}",
        "duplicate": "one payment named by {n} records",
        "payment_without_session": "{captured} captured, no session",
        "session_without_payment": "cost {computed} and no payment",
        "zero_energy_with_charge": "0 kWh delivered, {captured} captured",
        "batch_total_mismatch": "terminal total {total}, captures add up to {captures}",
        "reported_ne_computed": "station reported {reported}, recomputed {computed}",
        "captured_not_settled": "{captured} captured, in no settlement",
        "settled_not_captured": "{gross} settled, nothing of ours captured",
        "settled_amount_differs": "settled {gross}, captured {captured}",
        "fee_differs": "fee {fee}, agreed {agreed}",
        "payout_total_mismatch": "payout {amount}, its transactions add up to {lines}",
        "dispute": "chargeback or dispute of {gross}",
        "refund_without_session": "provider refunded {gross}; no refund of ours",
    },
    "de": {
        "uncaptured_hold": "Reservierung über {authorized} weder eingezogen noch freigegeben",
        "captured_ne_computed": "eingezogen {captured}, berechnet {computed}",
        "computed_gt_hold": "Kosten {computed} über der Reservierung von {authorized}",
        "duplicate": "eine Zahlung in {n} Datensätzen",
        "payment_without_session": "{captured} eingezogen, kein Ladevorgang",
        "session_without_payment": "Kosten {computed}, keine Zahlung",
        "zero_energy_with_charge": "0 kWh geladen, {captured} eingezogen",
        "batch_total_mismatch": "Terminal-Summe {total}, Einzüge ergeben {captures}",
        "reported_ne_computed": "Station meldete {reported}, nachberechnet {computed}",
        "captured_not_settled": "{captured} eingezogen, in keiner Abrechnung",
        "settled_not_captured": "{gross} abgerechnet, bei uns nichts eingezogen",
        "settled_amount_differs": "abgerechnet {gross}, eingezogen {captured}",
        "fee_differs": "Gebühr {fee}, vereinbart {agreed}",
        "payout_total_mismatch": "Auszahlung {amount}, ihre Buchungen ergeben {lines}",
        "dispute": "Rückbuchung oder Streitfall über {gross}",
        "refund_without_session": "Erstattung des Zahlungsdienstes über {gross}; keine von uns",
    },
}


def _amounts(cls: str, records: list[dict[str, Any]]) -> dict[str, int]:
    """The amounts (minor units) a class's text needs, read from its records."""
    by_type: dict[str, dict[str, Any]] = {}
    for r in records:
        by_type.setdefault(str(r.get("type")), r)
    session, payment = by_type.get("session", {}), by_type.get("payment", {})
    line, batch = by_type.get("settlement", {}), by_type.get("terminal_totals", {})
    payout = by_type.get("payout", {})
    values: dict[str, Any] = {
        "computed": session.get("computed"),
        "reported": session.get("reported"),
        "authorized": payment.get("authorized"),
        "captured": payment.get("captured"),
        "gross": abs(line["gross"]) if isinstance(line.get("gross"), int) else None,
        "fee": line.get("fee"),
        "agreed": line.get("agreed"),
        "amount": payout.get("amount"),
        "lines": payout.get("lines"),
        "total": batch.get("total"),
    }
    if cls == "batch_total_mismatch":
        once = {
            r.get("receipt_no", r.get("payment_id")): r.get("captured") or 0
            for r in records
            if r.get("type") == "payment"
        }
        values["captures"] = sum(once.values())
    return {k: v for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)}


def describe(
    cls: str, records: list[dict[str, Any]], currency: str, lang: str, fallback: str
) -> str:
    template = TEMPLATES.get(lang, TEMPLATES["en"]).get(cls)
    if template is None:
        return fallback
    money: Callable[[int], str] = lambda m: phone_format.money_minor(m, currency, lang)  # noqa: E731
    fields: dict[str, str] = {k: money(v) for k, v in _amounts(cls, records).items()}
    fields["n"] = str(len(records))
    try:
        return template.format(**fields)
    except KeyError:  # a record without the amount this text needs
        return fallback
