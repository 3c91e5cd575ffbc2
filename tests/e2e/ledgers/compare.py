"""Compare the four ledgers of one run; every disagreement is named by its kind.

The rules: every amount agrees to the cent across screen, journal, terminal and backend; every
pre-auth ends exactly once (booked or reversed); no session is lost or stored twice; the frozen
tariff recomputed over the journaled readings gives the booked amount; the price the idle tile
shows is the price in force when it is shown.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.tariff import LiveCostCalculator, parse_tariff
from tests.e2e.ledgers.ledgers import Ledgers

BERLIN = ZoneInfo("Europe/Berlin")
DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]


@dataclass(frozen=True)
class Disagreement:
    kind: str
    detail: str


def charged(report: dict[str, Any]) -> int:
    """What the journal says the driver paid for this session."""
    if report.get("money") not in ("charged", "charge_pending"):
        return 0
    return int(report.get("final_minor") or 0)


def _matches(restrictions: dict[str, Any], local: datetime) -> bool:
    days = restrictions.get("day_of_week")
    if days and DAYS[local.weekday()] not in days:
        return False
    start, end = restrictions.get("start_time"), restrictions.get("end_time")
    now = local.time()
    begin = time.fromisoformat(start) if start else time(0)
    until = time.fromisoformat(end) if end else None
    if until is None or until == begin:
        return now >= begin
    if begin < until:
        return begin <= now < until
    return now >= begin or now < until  # wraps midnight


def energy_price_in_force(tariff: dict[str, Any], at: datetime) -> Decimal | None:
    """OCPI: the first element with an ENERGY component whose restrictions hold at `at`."""
    local = at.astimezone(BERLIN)
    for element in tariff["elements"]:
        for c in element["price_components"]:
            if c["type"] == "ENERGY" and _matches(element.get("restrictions", {}), local):
                return Decimal(str(c["price"]))
    return None


def shown_energy_price(summary: str) -> Decimal | None:
    found = re.search(r"(\d+)[.,](\d+)\s*(?:EUR|€)?\s*/\s*kWh", summary)
    return Decimal(f"{found.group(1)}.{found.group(2)}") if found else None


def recompute(report: dict[str, Any]) -> int | None:
    readings = report.get("readings") or []
    if not readings:
        return None
    raw = report["tariff"]
    tariff = parse_tariff(json.loads(raw, parse_float=Decimal) if isinstance(raw, str) else raw)
    first = readings[0]
    calc = LiveCostCalculator(tariff, BERLIN, datetime.fromisoformat(first[0]), int(first[1]))
    total = 0
    for at, wh, power, charging in readings[1:]:
        breakdown = calc.add_reading(
            datetime.fromisoformat(at), int(wh), power_w=power, charging=charging is not False
        )
        total = breakdown.total_minor()
    return total


def _lines_total(receipt: dict[str, Any]) -> int | None:
    """The sum of the receipt's price component lines, if the receipt lists them."""
    lines = receipt.get("lines")
    if not lines:
        return None
    total = 0
    for line in lines:
        amount = line.get("amount") if isinstance(line, dict) else None
        if isinstance(amount, dict) and isinstance(amount.get("minor"), int):
            total += amount["minor"]
        elif isinstance(amount, int):
            total += amount
        else:
            return None  # a shape this harness does not know: not compared
    return total


def compare(led: Ledgers, tariff: dict[str, Any]) -> list[Disagreement]:
    out: list[Disagreement] = []

    def bad(kind: str, detail: str) -> None:
        out.append(Disagreement(kind, detail))

    j, t, b = led.journal, led.terminal, led.backend
    for sid in j.open_sessions:
        bad("session_left_open", f"journal session {sid} never closed")
    if j.undelivered:
        bad("report_not_delivered", f"{j.undelivered} outbox records never reached the backend")

    # (c) terminal: every pre-auth ends exactly once; bookings per session reference
    ends: Counter[int] = Counter()
    booked_by_ref: Counter[str] = Counter()
    for entry in t["booked"]:
        ends[entry["original_receipt_no"]] += 1
        booked_by_ref[entry["reference"]] += entry["amount_minor"]
    for entry in t["reversed"]:
        ends[entry["original_receipt_no"]] += 1
    for receipt, entry in t["open"].items():
        bad("preauth_left_open", f"terminal hold {receipt} ({entry['amount_minor']}) never ended")
    for receipt, n in ends.items():
        if n > 1:
            bad("preauth_ended_twice", f"terminal hold {receipt} ended {n} times")
    for ref in booked_by_ref:
        if ref not in j.reports:
            bad("terminal_booking_unknown", f"terminal booked {booked_by_ref[ref]} for {ref}")

    promised = {r["session"]: r for r in led.screen if r["kind"] == "stop_confirm"}
    receipts = {r["session"]: r["receipt"] for r in led.screen if r["kind"] == "receipt"}
    for sid, report in j.reports.items():
        paid = charged(report)
        auth = report.get("authorisation") or {}
        if auth.get("method") == "card" and booked_by_ref[sid] != paid:
            bad(
                "journal_vs_terminal",
                f"{sid}: journal {paid}, terminal booked {booked_by_ref[sid]}",
            )
        # (d) backend
        rows = b.sessions.get(sid, [])
        if not rows:
            bad("session_lost", f"{sid}: reported by the journal, not in the backend")
        if len(rows) > 1:
            bad("session_counted_twice", f"{sid}: {len(rows)} rows in the backend")
        for row in rows:
            if row["reported_minor"] != paid:  # e.g. a released session stored with a cost
                bad(
                    "backend_cost_vs_charged",
                    f"{sid}: backend session cost {row['reported_minor']}, charged {paid}"
                    f" ({report.get('money')})",
                )
            if row["computed_minor"] != row["reported_minor"]:
                bad(
                    "backend_recompute_vs_reported",
                    f"{sid}: backend computed {row['computed_minor']}, "
                    f"reported {row['reported_minor']}",
                )
            captured = sum(p["captured_minor"] or 0 for p in b.payments.get(row["pk"], []))
            if auth.get("method") == "card" and captured != paid:
                bad("journal_vs_backend", f"{sid}: journal {paid}, backend captured {captured}")
            if auth.get("method") == "card" and captured != booked_by_ref[sid]:
                bad(
                    "backend_vs_terminal",
                    f"{sid}: backend captured {captured}, terminal {booked_by_ref[sid]}",
                )
        link = b.links.get(auth.get("link_id") or "")
        if link is not None:
            captured = sum(p["captured_minor"] or 0 for p in link["payments"])
            if captured != paid:
                bad("backend_link_vs_journal", f"{sid}: link captured {captured}, journal {paid}")
        # recomputation of the frozen tariff over the journaled readings
        again = recompute(report)
        if paid and again is not None and again != paid:
            bad("recompute_vs_booked", f"{sid}: recomputed {again}, booked {paid}")
        # (a) the screen
        if sid in promised and report.get("stop_reason") == "driver" and paid:
            said = promised[sid]["minor"]
            if said != paid:
                bad("stop_confirm_vs_booked", f"{sid}: Stop dialog said {said}, booked {paid}")
        receipt = receipts.get(sid)
        if receipt is not None:
            total = receipt["total"]["minor"]
            if receipt["money"] in ("charged", "charge_pending") and total != paid:
                bad("receipt_vs_journal", f"{sid}: receipt {total}, journal {paid}")
            vat = sum(v["net"]["minor"] + v["vat"]["minor"] for v in receipt["vat_lines"])
            if receipt["vat_lines"] and vat != total:
                bad("receipt_vat_lines_vs_total", f"{sid}: VAT lines {vat}, total {total}")
            listed = _lines_total(receipt)
            if listed is not None and listed != total:
                bad("receipt_lines_vs_total", f"{sid}: lines {listed}, total {total}")
    for link_id, link in b.links.items():
        if link["status"] in ("authorized", "pending") and link["payments"]:
            bad("link_hold_left_open", f"link {link_id} still {link['status']}")
    for row in led.screen:
        if row["kind"] == "tile":
            want = energy_price_in_force(tariff, datetime.fromisoformat(row["at"]))
            shown = shown_energy_price(row["summary"])
            if want is not None and shown != want:
                bad("tile_price_not_in_force", f"tile {shown} at {row['at']}, in force {want}")
    return out
