"""Summarise the station from its journal: open sessions and holds, outbox, last end-of-day.

  evkiosk status [--config FILE | --journal PATH] [--json] [--recent N]

Reads the journal read-only and talks to no device, so it is safe while the kiosk runs (use
`evkiosk doctor` to test the devices). Amounts are in minor units of their currency. Exit
codes: 0 ok, 1 the journal cannot be read, 2 bad input (config, missing journal).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from typing import Any

from kiosk.money import Money
from kiosk.ops.journalfile import JournalFileError, JournalRequestError
from kiosk.ops.locate import LocateError, add_location_arguments, journal_path
from kiosk.ops.summary import Summary, summarise
from kiosk.tariff.display import format_amount

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_location_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--recent", type=int, default=10, metavar="N", help="how many recent sessions (10)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        path = journal_path(args)
    except LocateError as exc:
        print(f"evkiosk status: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        summary = summarise(path, recent=max(0, args.recent))
    except JournalRequestError as exc:
        print(f"evkiosk status: {exc} (the kiosk creates it on first start)", file=sys.stderr)
        return EXIT_USAGE
    except (JournalFileError, sqlite3.Error) as exc:
        print(
            f"evkiosk status: journal {path} cannot be read ({exc}); run 'evkiosk journal check'",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    if args.json:
        print(json.dumps(as_json(summary), indent=2))
    else:
        print("\n".join(render(summary)))
    return EXIT_OK


def as_json(s: Summary) -> dict[str, Any]:
    return {
        "journal": s.journal,
        "schema_version": s.schema_version,
        "open_sessions": s.open_sessions,
        "holds": s.holds,
        "outbox": s.outbox,
        "last_end_of_day": s.last_end_of_day,
        "devices": s.devices,
        "recent_sessions": s.recent_sessions,
        "kiosk_processes": s.kiosk_processes,
        "csms": s.csms,
    }


def _amount(minor: int | None, currency: str | None) -> str:
    if minor is None or not currency:
        return "-"
    try:
        return format_amount(Money.from_minor(int(minor), currency))
    except (ValueError, TypeError):
        return f"{minor} {currency} (minor units)"


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _end_of_day(eod: dict[str, Any] | None) -> str:
    if eod is None:
        return "none in the journal"
    if "business_day" in eod:
        text = f"{eod['business_day']} at {eod['at']}: {eod['outcome']}"
        if eod.get("terminal_id"):
            text += f" (terminal {eod['terminal_id']})"
        if eod.get("mismatch_json"):
            text += f"; TERMINAL AND JOURNAL DIFFER: {eod['mismatch_json']}"
        return text
    return f"{eod['at']} ({eod['idempotency_key']})"


def csms_line(csms: dict[str, Any] | None) -> str | None:
    """One line: joined or not, the OCPP version, what waits, the last error."""
    if csms is None:
        return None
    state = f"connected, OCPP {csms['version']}" if csms["connected"] else "not connected"
    error = f", last error: {csms['last_error']}" if csms.get("last_error") else ""
    return f"CSMS: {state}, {csms['queued']} messages queued{error} (since {csms['changed_at']})"


def render(s: Summary) -> list[str]:
    running = ", ".join(s.kiosk_processes) if s.kiosk_processes else "no process has it open"
    lines = [
        f"journal {s.journal} (schema version {s.schema_version})",
        f"kiosk: {running}",
        "",
    ]
    lines.append(f"Open sessions: {len(s.open_sessions)}")
    lines += [
        f"  {o['session_id']}  connector {o['connector_id']}  {o['phase']}  "
        f"since {o['created_at']}  last change {_age(o['idle_s'])} ago"
        for o in s.open_sessions
    ]
    total: dict[str, int] = {}
    for h in s.holds:
        total[h["currency"]] = total.get(h["currency"], 0) + int(h["amount_minor"])
    summed = ", ".join(_amount(v, k) for k, v in total.items()) or "none"
    lines += ["", f"Open holds: {len(s.holds)} ({summed})"]
    for h in s.holds:
        where = (
            f"receipt {h['receipt_no']}" if h.get("receipt_no") is not None else h.get("link_id")
        )
        card = " ".join(str(x) for x in (h.get("card_brand"), h.get("masked_pan")) if x)
        lines.append(
            f"  {h['session_id']}  {h['method']}  {_amount(h['amount_minor'], h['currency'])}  "
            f"{where or ''}  {card}  ({h['phase']})".rstrip()
        )
    o = s.outbox
    lines += ["", f"Outbox: {o['queued']} queued, {o['delivered']} delivered"]
    if o["queued"]:
        lines.append(
            f"  oldest queued {_age(o['oldest_queued_age_s'])} ago ({o['oldest_queued_at']})"
        )
    for parked in o["parked"]:
        lines.append(
            f"  PARKED (refused by the backend, not resent): {parked['record']} "
            f"{parked['error']} since {parked['parked_at']}"
        )
    if o["last_error"]:
        e = o["last_error"]
        lines.append(
            f"  last error: {e['error']} ({e['record']}, {e['attempts']} attempts, "
            f"next {e['next_attempt_at']})"
        )
    line = csms_line(s.csms)
    if line is not None:
        lines += ["", line]
    lines += ["", "Last end-of-day: " + _end_of_day(s.last_end_of_day)]
    lines += ["", "Devices (last seen in the journal):"]
    if not s.devices:
        lines.append("  no readings or terminal results yet")
    for d in s.devices:
        if "terminal" in d:
            t = d["terminal"]
            lines.append(
                f"  terminal {t['terminal_id'] or ''}: last {t['kind']} {t['outcome']} at {t['at']}"
            )
        else:
            lines.append(
                f"  connector {d['connector_id']}: last meter reading {d['last_reading_at']} "
                f"({d['energy_wh']} Wh)"
            )
    lines += ["", f"Recent sessions: {len(s.recent_sessions)}"]
    lines += [
        f"  {r['session_id']}  connector {r['connector_id']}  {r['phase']}  {r['created_at']}  "
        f"{r['energy_wh'] if r['energy_wh'] is not None else '-'} Wh  "
        f"{_amount(r['cost_minor'], r['currency'])}"
        for r in s.recent_sessions
    ]
    return lines
