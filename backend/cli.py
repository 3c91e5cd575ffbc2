"""Run and administer the operator backend.

  evkiosk backend serve [--db URL] [--listen HOST:PORT] [--public-url URL]
  evkiosk backend add-station ID            prints the station's API key once
  evkiosk backend rotate-key ID             replaces a station's API key
  evkiosk backend reconcile --from DATE --to DATE [--format json|csv|html] [--lang en|de]
  evkiosk backend sweep                     expire links, retry captures, release stale holds
  evkiosk backend add-operator NAME --role R   an account for the operator pages (/ops)
  evkiosk backend operator add|list|disable|enable|role ...   manage those accounts
  evkiosk backend refund STATION SESSION --amount A --reason TEXT --by NAME

The database is a SQLite file by default; pass --db postgresql://user@host/db for PostgreSQL
(or set EVKIOSK_BACKEND_DB). Stripe is configured with EVKIOSK_STRIPE_API_KEY and
EVKIOSK_STRIPE_WEBHOOK_SECRET and --gateway stripe; see docs/backend.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from backend.config import DEFAULT_DB_URL, SETTINGS_ENV, Settings, settings_to_env

if TYPE_CHECKING:
    from backend.db import Database

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        default=os.environ.get("EVKIOSK_BACKEND_DB", DEFAULT_DB_URL),
        help=f"database URL (default {DEFAULT_DB_URL}, or $EVKIOSK_BACKEND_DB)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    serve = sub.add_parser("serve", help="run the service")
    _db_arg(serve)
    serve.add_argument("--listen", default="127.0.0.1:8800", help="HOST:PORT (default %(default)s)")
    serve.add_argument("--public-url", help="the URL phones reach (default http://LISTEN)")
    serve.add_argument("--gateway", choices=("sandbox", "stripe"), default="sandbox")
    serve.add_argument(
        "--link-ttl", type=int, default=15, metavar="MIN", help="link validity, minutes"
    )
    serve.add_argument(
        "--hold-ttl",
        type=int,
        default=48,
        metavar="H",
        help="release unreported holds after H hours",
    )
    serve.add_argument("--operator", default="evkiosk operator", help="name shown on pages")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1; one per CPU core)"
    )
    serve.add_argument(
        "--station",
        metavar="ID",
        help="register station ID (or re-key it) with the key in --key-file before serving",
    )
    serve.add_argument("--key-file", help="file holding the station key for --station")
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (off by default: the proxy in front logs them, for less CPU)",
    )
    serve.set_defaults(handler=_serve)

    add = sub.add_parser("add-station", help="register a station and print its API key")
    _db_arg(add)
    add.add_argument("station_id", metavar="ID")
    add.add_argument("--name", default="")
    add.set_defaults(handler=_add_station)

    rotate = sub.add_parser("rotate-key", help="replace a station's API key")
    _db_arg(rotate)
    rotate.add_argument("station_id", metavar="ID")
    rotate.set_defaults(handler=_rotate)

    rec = sub.add_parser(
        "reconcile",
        help="the books: sessions, captures, terminal totals, refunds, settlement and payouts",
    )
    _db_arg(rec)
    rec.add_argument("--from", dest="date_from", required=True, type=_date, metavar="DATE")
    rec.add_argument("--to", dest="date_to", required=True, type=_date, metavar="DATE")
    rec.add_argument("--format", choices=("json", "csv", "html"), default="json")
    rec.add_argument("--station", help="only this station")
    rec.add_argument("--lang", choices=("en", "de"), default="en", help="language of the texts")
    rec.set_defaults(handler=_reconcile)

    export = sub.add_parser(
        "ocmf-export", help="every signed meter record per meter, in order, with gaps (JSON)"
    )
    _db_arg(export)
    export.add_argument("--meter", help="only this meter serial number")
    export.set_defaults(handler=_ocmf_export)

    sweep = sub.add_parser("sweep", help="run one round of the background sweep")
    _db_arg(sweep)
    sweep.set_defaults(handler=_sweep)

    from backend.cli_books import add_book_arguments  # noqa: PLC0415 (its actions load late)

    add_book_arguments(sub, _db_arg)

    from backend.cli_operators import add_operator_arguments  # noqa: PLC0415

    add_operator_arguments(sub, _db_arg)


def run(args: argparse.Namespace) -> int:  # the subparsers always set a handler
    print("evkiosk backend: choose an action (serve, add-station, reconcile)", file=sys.stderr)
    return EXIT_USAGE


def _date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None
    if not 2000 <= day.year < 2100:
        raise argparse.ArgumentTypeError(f"{text!r}: use a date from 2000 to 2099")
    return day


def _parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen {text!r}: use HOST:PORT, e.g. 0.0.0.0:8800")
    return host.strip("[]"), int(port)


@contextmanager
def _database(url: str) -> Iterator[Database]:
    """The migrated database for one command; its connections are closed when the block ends
    (the command may run inside a longer-lived process, e.g. a test or a script)."""
    from backend.db import Database  # noqa: PLC0415 (load on demand)

    db = Database(url)
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 (load on demand)

    from backend.app import create_app, freeze_startup_objects  # noqa: PLC0415 (on demand)

    try:
        host, port = _parse_listen(args.listen)
    except ValueError as exc:
        print(f"evkiosk backend: {exc}", file=sys.stderr)
        return EXIT_USAGE
    settings = Settings(
        db_url=args.db,
        public_url=args.public_url or f"http://{args.listen}",
        gateway=args.gateway,
        link_ttl=timedelta(minutes=args.link_ttl),
        hold_ttl=timedelta(hours=args.hold_ttl),
        operator_name=args.operator,
        stripe_api_key=os.environ.get("EVKIOSK_STRIPE_API_KEY", ""),
        stripe_webhook_secret=os.environ.get("EVKIOSK_STRIPE_WEBHOOK_SECRET", ""),
        stripe_publishable_key=os.environ.get("EVKIOSK_STRIPE_PUBLISHABLE_KEY", ""),
    )
    if settings.gateway == "stripe" and not (
        settings.stripe_api_key and settings.stripe_webhook_secret
    ):
        print(
            "evkiosk backend: --gateway stripe needs EVKIOSK_STRIPE_API_KEY and "
            "EVKIOSK_STRIPE_WEBHOOK_SECRET",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.workers < 1:
        print("evkiosk backend: --workers must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if (args.station is None) != (args.key_file is None):
        print("evkiosk backend: --station and --key-file go together", file=sys.stderr)
        return EXIT_USAGE
    try:
        # Migrate once here, so several workers never race on a fresh database.
        app = create_app(settings)
        if args.station is not None:
            _station_from_key_file(app.state.services.db, settings, args.station, args.key_file)
    except (SQLAlchemyError, OSError) as exc:
        print(f"evkiosk backend: cannot open the database {args.db}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except ValueError as exc:
        print(f"evkiosk backend: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"evkiosk backend on http://{args.listen}  (pay pages at {settings.public_url}/pay/…)")
    if args.workers == 1:
        freeze_startup_objects()
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="info",
            access_log=args.access_log,
            proxy_headers=True,
        )
    else:
        app.state.services.close()
        os.environ[SETTINGS_ENV] = settings_to_env(settings)
        uvicorn.run(
            "backend.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            log_level="info",
            access_log=args.access_log,
            proxy_headers=True,
        )
    return EXIT_OK


def _station_from_key_file(db: Database, settings: Settings, station_id: str, path: str) -> None:
    from backend.stations import ensure_station_key  # noqa: PLC0415 (load on demand)

    with open(path, encoding="ascii") as f:
        plaintext = f.read().strip()
    ensure_station_key(db, settings, station_id, plaintext)


def _add_station(args: argparse.Namespace) -> int:
    from backend.stations import StationError, add_station  # noqa: PLC0415 (load on demand)

    try:
        with _database(args.db) as db:
            key = add_station(db, Settings(db_url=args.db), args.station_id, args.name)
    except StationError as exc:
        print(f"evkiosk backend: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SQLAlchemyError as exc:
        print(f"evkiosk backend: database {args.db}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(key)
    print("Store this key in the station's config now; it is not shown again.", file=sys.stderr)
    return EXIT_OK


def _rotate(args: argparse.Namespace) -> int:
    from backend.stations import StationError, rotate_key  # noqa: PLC0415 (load on demand)

    try:
        with _database(args.db) as db:
            key = rotate_key(db, args.station_id)
    except StationError as exc:
        print(f"evkiosk backend: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(key)
    return EXIT_OK


def _reconcile(args: argparse.Namespace) -> int:
    from backend import books, reconcile_output  # noqa: PLC0415 (load on demand)

    if args.date_to < args.date_from:
        print("evkiosk backend: --to is before --from", file=sys.stderr)
        return EXIT_USAGE
    try:
        with _database(args.db) as db:
            result = books.books(
                db, Settings(db_url=args.db), args.date_from, args.date_to, args.station
            )
    except SQLAlchemyError as exc:
        print(f"evkiosk backend: database {args.db}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if args.format == "json":
        out = reconcile_output.to_json(result, args.lang)
        print(json.dumps(out, indent=2, ensure_ascii=False))
    elif args.format == "csv":
        sys.stdout.write(reconcile_output.to_csv(result, args.lang))
    else:
        sys.stdout.write(reconcile_output.to_html(result, args.lang))
    return EXIT_OK


def _ocmf_export(args: argparse.Namespace) -> int:
    """For an authority's request (Eichrecht): the records exactly as the stations sent them."""
    from backend.ocmf import export_records  # noqa: PLC0415 (load on demand)

    try:
        with _database(args.db) as db, db.read() as s:
            out = export_records(s, args.meter)
    except SQLAlchemyError as exc:
        print(f"evkiosk backend: database {args.db}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return EXIT_OK


def _sweep(args: argparse.Namespace) -> int:
    from backend.services import build_services  # noqa: PLC0415 (load on demand)

    svc = build_services(Settings(db_url=args.db))
    try:
        print(json.dumps(svc.settler.sweep()))
    finally:
        svc.close()
    return EXIT_OK
