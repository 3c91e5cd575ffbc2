"""The books' command-line actions: operator accounts, refunds, settlement imports.

evkiosk backend add-operator NAME --role viewer|operator|admin [--language de|en]
      (password from $EVKIOSK_OPERATOR_PASSWORD or asked for at the terminal)
evkiosk backend refund STATION SESSION_ID --amount 6.25 --reason TEXT --by NAME
evkiosk backend import-settlement FILE --acquirer NAME
evkiosk backend import-stripe --since DATE
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from collections.abc import Callable
from typing import Any

from backend.config import Settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def add_book_arguments(sub: Any, db_arg: Callable[[argparse.ArgumentParser], None]) -> None:
    op = sub.add_parser("add-operator", help="create an operator account for the web view")
    db_arg(op)
    op.add_argument("username", metavar="NAME")
    op.add_argument("--role", choices=("viewer", "operator", "admin"), required=True)
    op.add_argument("--language", choices=("de", "en"), default="en")
    op.set_defaults(handler=_add_operator)

    refund = sub.add_parser("refund", help="refund a session fully or partly")
    db_arg(refund)
    refund.add_argument("station_id", metavar="STATION")
    refund.add_argument("session_id", metavar="SESSION_ID")
    refund.add_argument("--amount", required=True, help="in the currency, e.g. 6.25")
    refund.add_argument("--reason", required=True)
    refund.add_argument("--by", required=True, help="who asks for the refund (audited)")
    refund.add_argument(
        "--request-key",
        default=None,
        help="repeat a refund that timed out with the same key (refunds once)",
    )
    refund.add_argument("--gateway", choices=("sandbox", "stripe"), default="sandbox")
    refund.set_defaults(handler=_refund)

    imp = sub.add_parser("import-settlement", help="import an acquirer's settlement file (CSV)")
    db_arg(imp)
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--acquirer", required=True, help="format name (settlement_formats/*.json)")
    imp.set_defaults(handler=_import_settlement)

    stripe = sub.add_parser("import-stripe", help="import Stripe balance transactions and payouts")
    db_arg(stripe)
    stripe.add_argument("--since", required=True, help="YYYY-MM-DD (UTC)")
    stripe.set_defaults(handler=_import_stripe)

    bk = sub.add_parser("books", help="the books as CSV: reconciliation with refunds, settlement")
    db_arg(bk)
    bk.add_argument("--from", dest="date_from", required=True, metavar="DATE")
    bk.add_argument("--to", dest="date_to", required=True, metavar="DATE")
    bk.add_argument("--station", help="only this station")
    bk.add_argument("--lang", choices=("en", "de"), default="en", help="language of the findings")
    bk.set_defaults(handler=_books)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(
        db_url=args.db,
        gateway=getattr(args, "gateway", "sandbox"),
        stripe_api_key=os.environ.get("EVKIOSK_STRIPE_API_KEY", ""),
        stripe_api_base=os.environ.get("EVKIOSK_STRIPE_API_BASE", "https://api.stripe.com"),
    )


def _add_operator(args: argparse.Namespace) -> int:
    from backend.db import Database  # noqa: PLC0415 (load on demand)
    from backend.operators import OperatorError, add_operator  # noqa: PLC0415

    password = os.environ.get("EVKIOSK_OPERATOR_PASSWORD") or getpass.getpass("Password: ")
    db = Database(args.db)
    db.migrate()
    try:
        add_operator(
            db,
            _settings(args).now(),
            args.username,
            password,
            role=args.role,
            language=args.language,
        )
    except OperatorError as exc:
        print(f"evkiosk backend: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        db.dispose()
    print(f"operator {args.username} ({args.role}) added")
    return EXIT_OK


def _refund(args: argparse.Namespace) -> int:
    from sqlalchemy import select  # noqa: PLC0415 (load on demand)

    from backend.models import ChargingSession  # noqa: PLC0415
    from backend.refunds import (  # noqa: PLC0415
        RefundError,
        parse_amount,
        refund_session,
        refundable,
    )
    from backend.services import build_services  # noqa: PLC0415

    svc = build_services(_settings(args))
    try:
        with svc.db.read() as s:
            pk = s.scalar(
                select(ChargingSession.pk).where(
                    ChargingSession.station_id == args.station_id,
                    ChargingSession.session_id == args.session_id,
                )
            )
        if pk is None:
            print(
                f"evkiosk backend: session: no session {args.session_id} at {args.station_id}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        payment, _left = refundable(svc, pk)
        try:
            if payment is None:
                raise RefundError("session", "nothing was captured for this session")
            result = refund_session(
                svc,
                pk,
                parse_amount(args.amount, payment.currency),
                reason=args.reason,
                actor=args.by,
                request_key=args.request_key or secrets.token_urlsafe(24),
            )
        except RefundError as exc:
            print(f"evkiosk backend: {exc}", file=sys.stderr)
            return EXIT_USAGE
    finally:
        svc.close()
    print(f"refund {result.refund_id}: {result.status} {result.failure}".rstrip())
    return EXIT_OK if not result.failure else EXIT_FAILURE


def _import_settlement(args: argparse.Namespace) -> int:
    from backend.db import Database  # noqa: PLC0415 (load on demand)
    from backend.settlement_import import SettlementFileError, import_file  # noqa: PLC0415

    try:
        with open(args.file, "rb") as f:
            data = f.read()
    except OSError as exc:
        print(f"evkiosk backend: file: {exc}", file=sys.stderr)
        return EXIT_USAGE
    db = Database(args.db)
    db.migrate()
    try:
        n = import_file(db, args.acquirer, data, os.path.basename(args.file), _settings(args).now())
    except SettlementFileError as exc:
        print(f"evkiosk backend: {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        db.dispose()
    print(f"{n} new records from {args.file}")
    return EXIT_OK


def _import_stripe(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime  # noqa: PLC0415

    from backend.db import Database  # noqa: PLC0415 (load on demand)
    from backend.gateways import GatewayError  # noqa: PLC0415
    from backend.gateways.stripe import StripeGateway  # noqa: PLC0415
    from backend.settlement_import import import_stripe  # noqa: PLC0415

    settings = _settings(args)
    if not settings.stripe_api_key:
        print("evkiosk backend: import-stripe needs EVKIOSK_STRIPE_API_KEY", file=sys.stderr)
        return EXIT_USAGE
    try:
        since = datetime.fromisoformat(args.since).replace(tzinfo=UTC)
    except ValueError:
        print(f"evkiosk backend: --since {args.since!r}: use YYYY-MM-DD", file=sys.stderr)
        return EXIT_USAGE
    db = Database(args.db)
    db.migrate()
    gw = StripeGateway(settings.stripe_api_key, settings.stripe_api_base)
    try:
        n = import_stripe(db, gw, since, settings.now())
    except GatewayError as exc:
        print(f"evkiosk backend: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        gw.close()
        db.dispose()
    print(f"{n} new records from Stripe")
    return EXIT_OK


def _books(args: argparse.Namespace) -> int:
    from datetime import date  # noqa: PLC0415

    from backend.books import books  # noqa: PLC0415 (load on demand)
    from backend.books_csv import books_csv  # noqa: PLC0415
    from backend.db import Database  # noqa: PLC0415

    try:
        frm, to = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
    except ValueError:
        print("evkiosk backend: --from/--to: use YYYY-MM-DD", file=sys.stderr)
        return EXIT_USAGE
    if to < frm:
        print("evkiosk backend: --to is before --from", file=sys.stderr)
        return EXIT_USAGE
    db = Database(args.db)
    db.migrate()
    try:
        sys.stdout.write(books_csv(books(db, _settings(args), frm, to, args.station), args.lang))
    finally:
        db.dispose()
    return EXIT_OK
