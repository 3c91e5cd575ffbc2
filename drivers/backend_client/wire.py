"""Outbox records as the backend's API wants them (docs/backend.md, "Reports").

The kiosk journals a session report in its own terms (kiosk.journal.report); here it becomes
the body of `POST /api/v1/sessions`: OCPI times, the tariff snapshot digit for digit, the
payment reference, and the charging periods the kiosk priced (so the backend's recomputation
sees the same charging and parking time). End-of-day totals and stand-alone payments are
journaled in the API's shape already and pass through.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from kiosk.outbox.periods import charging_periods
from kiosk.outbox.receipt import receipt_signature
from kiosk.tariff.jsonio import dumps as exact_dumps


class UnsendableRecord(ValueError):
    """An outbox record that cannot become a request (unknown kind, a field missing)."""


ENDPOINTS = {
    "session": "/sessions",
    "payment": "/payments",
    "end_of_day": "/terminal-totals",
    "card_refund": "/card-refunds",
}


def splice_tariff(body: Mapping[str, object], tariff: Mapping[str, object]) -> str:
    """`body` as JSON with the tariff added, its prices never passing through float. The
    runtime hands over the frozen tariff as its canonical JSON text (`tariff_json`)."""
    frozen = tariff.get("tariff_json")
    if isinstance(frozen, str) and len(tariff) == 1:
        obj: object = json.loads(frozen, parse_float=Decimal)
    else:
        obj = dict(tariff)
    return exact_dumps({**body, "tariff": obj}, indent=None)


def report_request(
    kind: str, payload: Mapping[str, object], time_zone: str, receipt_secret: str | None = None
) -> tuple[str, str]:
    """(path, JSON body) for one outbox record. A record that cannot be translated is a bug
    or a damaged journal row: UnsendableRecord names the field (the outbox parks it)."""
    path = ENDPOINTS.get(kind)
    if path is None:
        known = ", ".join(sorted(ENDPOINTS))
        raise UnsendableRecord(f"outbox record of unknown kind {kind!r} (known: {known})")
    if kind != "session":
        return path, exact_dumps(dict(payload), indent=None)
    try:
        body = session_body(payload, time_zone, receipt_secret)
        return path, exact_dumps(body, indent=None)
    except (KeyError, TypeError, ValueError) as exc:
        raise UnsendableRecord(f"session report: cannot be sent ({exc!r})") from None


def _payment(report: Mapping[str, Any]) -> dict[str, Any]:
    auth = report.get("authorisation")
    if not isinstance(auth, Mapping):
        return {"method": "none"}
    if auth["method"] == "qr":
        return {"method": "link", "link_id": auth["link_id"]}
    if auth["method"] == "csms":  # OCPP C25: the CSMS's PSP holds and takes the money
        return {"method": "csms", "psp_ref": auth["reference"]}
    final = report.get("final_minor")
    settled = report.get("settlement_confirmed") or report.get("settlement_assumed")
    if final is None or not settled:
        status, captured = "authorized", None
    elif final == 0:
        status, captured = "released", 0
    else:
        status, captured = "captured", final
    return {
        "method": "card",
        "terminal_id": auth.get("terminal_id") or "unknown",
        # The booking's receipt when there is one: the terminal's end-of-day batch lists the
        # bookings, so reconciliation matches captures to batches by these numbers.
        "receipt_no": report.get("settlement_receipt_no") or auth.get("receipt_no"),
        "trace_no": report.get("settlement_trace_no") or auth.get("trace_no"),
        "auth_code": auth.get("auth_code"),
        "card_brand": auth.get("card_brand"),
        "masked_pan": auth.get("masked_pan"),
        "authorized_amount": auth["amount_minor"],
        "captured_amount": captured,
        "status": status,
    }


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def session_body(
    report: Mapping[str, Any], time_zone: str, receipt_secret: str | None = None
) -> dict[str, Any]:
    start = report.get("started_at") or report["created_at"]
    end = report.get("ended_at") or start
    readings = report.get("readings") or []
    if readings and report.get("started_at"):
        # The cost runs from the meter's start reading, which may be measured a moment before
        # charging was switched on (or after, at its end): the session spans them all.
        start = min(start, readings[0][0], key=_instant)
        end = max(end, readings[-1][0], key=_instant)
    meter_start = report.get("meter_start_wh")
    meter_end = report.get("meter_end_wh")
    if meter_start is None or meter_end is None:
        meter_start = meter_end = 0  # never started: no energy, no cost
    tariff = json.loads(report["tariff"], parse_float=Decimal)
    body: dict[str, Any] = {
        "session_id": report["session_id"],
        "connector_id": report["connector_id"],
        "start_date_time": start,
        "end_date_time": end,
        "meter_start_wh": meter_start,
        "meter_end_wh": meter_end,
        "currency": report["currency"],
        "time_zone": time_zone,
        "tariff": tariff,
        # No energy, no charge (kiosk.session.common.final_amount): a session that never
        # delivered energy reports no cost, even where the tariff has a session fee.
        "total_cost": (report.get("cost_minor") or 0) if meter_end > meter_start else 0,
        "payment": _payment(report),
    }
    if readings and report.get("started_at"):
        periods = charging_periods(report["tariff"], time_zone, readings)
        if periods:
            body["charging_periods"] = periods
    if report.get("ocmf"):
        body["ocmf"] = report["ocmf"]  # signed meter records (Eichrecht), as journaled
    if receipt_secret is not None:
        # The kiosk showed a receipt address with this signature before the report arrived.
        sig = receipt_signature(receipt_secret, str(report["session_id"]))
        body["cdr"] = {"kiosk_receipt": {"sig": sig}}
    return body
