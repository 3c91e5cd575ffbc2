"""Check an OCPI tariff: price a CDR with it, or show its prices as a driver sees them.

  evkiosk tariff price TARIFF.json CDR.json [--tz ZONE] [--json]
  evkiosk tariff show TARIFF.json [--lang en|de|fr]

`price` uses the CDR's start_date_time, end_date_time and charging_periods (any totals in it
are ignored) and prints the computed cost; --json prints the OCPI CDR cost fields. Local
restrictions (times of day, weekdays) are read in --tz (default UTC). A broken file is
reported in one line naming the field and why, with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiosk.money import Money
from kiosk.tariff import (
    CostBreakdown,
    Price,
    TariffError,
    TaxIncluded,
    load_cdr,
    load_tariff,
    price_lines,
    price_session,
    wording,
)
from kiosk.tariff.jsonio import dumps

EXIT_OK = 0
EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "examples:\n" + "\n".join(
        "  " + line.strip() for line in (__doc__ or "").splitlines()[2:4]
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    price = actions.add_parser(
        "price",
        help="compute the cost of a CDR's charging periods with a tariff",
        description="Compute the cost of a CDR's charging periods with an OCPI tariff.",
    )
    price.add_argument("tariff", metavar="TARIFF.json", help="OCPI 2.2.1 or 2.3.0 tariff")
    price.add_argument("cdr", metavar="CDR.json", help="OCPI CDR (its totals are ignored)")
    price.add_argument(
        "--tz", default="UTC", metavar="ZONE", help="local time zone, e.g. Europe/Berlin"
    )
    price.add_argument("--json", action="store_true", help="print the OCPI CDR cost fields")
    price.set_defaults(handler=run_price)
    show = actions.add_parser(
        "show",
        help="show the prices a driver must see before starting",
        description="Show every price component of a tariff, per kWh first (AFIR).",
    )
    show.add_argument("tariff", metavar="TARIFF.json")
    show.add_argument("--lang", choices=wording.languages(), default="en")
    show.set_defaults(handler=run_show)


def run(args: argparse.Namespace) -> int:
    print("evkiosk tariff: choose an action: price or show", file=sys.stderr)
    return EXIT_USAGE


def _fail(message: str) -> int:
    print(f"evkiosk tariff: {message}", file=sys.stderr)
    return EXIT_USAGE


def run_price(args: argparse.Namespace) -> int:
    try:
        tz = ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError):
        return _fail(f"--tz: unknown time zone {args.tz!r} (use an IANA name like Europe/Berlin)")
    try:
        tariff = load_tariff(args.tariff)
        cdr = load_cdr(args.cdr)
    except TariffError as exc:
        return _fail(str(exc))
    if cdr.currency is not None and cdr.currency != tariff.currency:
        return _fail(f"cdr: currency: {cdr.currency} differs from the tariff's {tariff.currency}")
    valid_from, valid_until = tariff.start_date_time, tariff.end_date_time
    if (valid_from is not None and cdr.start_date_time < valid_from) or (
        valid_until is not None and cdr.start_date_time >= valid_until
    ):
        window = f"{valid_from or '...'} to {valid_until or '...'}"
        print(
            f"evkiosk tariff: warning: the session starts outside the tariff's validity ({window})",
            file=sys.stderr,
        )
    try:
        cost = price_session(
            tariff,
            cdr.charging_periods,
            cdr.end_date_time,
            tz,
            session_start=cdr.start_date_time,
        )
    except ValueError as exc:
        return _fail(f"cdr: {exc}")
    if args.json:
        print(dumps(cost.to_ocpi()))
    else:
        print(_report(cost, tariff.id, tariff.tax_included, args.tz))
    return EXIT_OK


def _report(cost: CostBreakdown, tariff_id: str, tax: TaxIncluded, tz: str) -> str:
    names = {
        "energy": "Energy",
        "time": "Charging time",
        "parking": "Parking",
        "fixed": "Session fee",
        "price_limit": "Min/max price",
    }
    rows = [f"{'':<16}{'excl. VAT':>12}{'incl. VAT':>12}"]

    def row(label: str, price: Price) -> str:
        return f"{label:<16}{price.excl_vat.amount:>12}{price.incl_vat.amount:>12}"

    rows += [row(names[name], price) for name, price in cost.lines()]
    rows.append(row("Total", cost.total_cost) + f" {cost.currency}")
    billed = ", ".join(f"{k} {v.normalize():f}" for k, v in cost.billed.items())
    stated = "incl." if tax is TaxIncluded.YES else "excl."
    head = [
        f"tariff {tariff_id} ({cost.currency}, prices {stated} VAT), local time {tz}",
        f"energy {cost.total_energy.normalize():f} kWh, time {cost.total_time:.4f} h, "
        f"parking {cost.total_parking_time:.4f} h" + (f"; billed {billed}" if billed else ""),
        "",
    ]
    return "\n".join(head + rows)


def run_show(args: argparse.Namespace) -> int:
    try:
        tariff = load_tariff(args.tariff)
    except TariffError as exc:
        return _fail(str(exc))
    words = wording.load_words(args.lang)
    out = [f"{words.text('tariff.prices')} — {tariff.id} ({tariff.currency})"]
    out += [f"  {wording.line_text(line, words, with_vat=True)}" for line in price_lines(tariff)]
    if tariff.preauthorize_amount is not None:
        amount = Money(tariff.preauthorize_amount, tariff.currency).rounded().amount
        hold = words.money_value(amount, tariff.currency)
        out.append(f"  {words.text('tariff.reserved', amount=hold)}")
    alt = wording.alt_text(tariff.alt_text, args.lang)
    if alt:
        out.append(f"  {alt}")
    print("\n".join(out))
    return EXIT_OK
