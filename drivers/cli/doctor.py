"""Check the station before (and after) it takes money: config, ports, devices, backend, host.

  evkiosk doctor [--config FILE] [--json] [--user NAME] [--timeout S] [--min-free-mb MB]

Each line is ok, WARN, FAIL or skip, and every WARN and FAIL says what to do. The devices are
really asked (one meter reading, the controller's state, a terminal status enquiry), so stop
the kiosk first (systemctl stop evkiosk): a port the kiosk holds is reported as held. Run as
root with --user evkiosk to check the service user's port permissions. Exit codes: 0 nothing
failed (warnings allowed), 1 something failed, 2 bad usage or a config file that does not load.
"""

from __future__ import annotations

import argparse
import json
import sys

from drivers.doctor.ports import Identity
from drivers.doctor.result import Outcome
from drivers.doctor.runner import DoctorOptions, render, run_doctor
from kiosk.logs import add_logging_arguments, setup_from_arguments
from kiosk.paths import config_file

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="station config (default: $EVKIOSK_CONFIG, else station.toml in the config dir)",
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument(
        "--user", metavar="NAME", help="judge port permissions for this user (e.g. evkiosk)"
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="terminal/backend timeout (5)"
    )
    parser.add_argument(
        "--min-free-mb",
        type=int,
        default=200,
        metavar="MB",
        help="free disk the journal's file system must have (200)",
    )
    # What the drivers log while being asked (retries, link errors) goes to stderr, scrubbed.
    add_logging_arguments(parser, default_level="WARNING")


def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0 or args.min_free_mb < 0:
        print("evkiosk doctor: --timeout must be above 0, --min-free-mb 0 or more", file=sys.stderr)
        return EXIT_USAGE
    try:
        identity = Identity.of_user(args.user) if args.user else Identity.current()
    except KeyError:
        print(f"evkiosk doctor: no user named {args.user!r}", file=sys.stderr)
        return EXIT_USAGE
    setup_from_arguments(args)
    options = DoctorOptions(
        config=config_file(args.config),
        identity=identity,
        timeout_s=args.timeout,
        min_free_mb=args.min_free_mb,
    )
    checks = run_doctor(options)
    failed = any(c.outcome is Outcome.FAIL for c in checks)
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [c.as_json() for c in checks]}, indent=2))
    else:
        print("\n".join(render(checks)))
    # A config file that is there but does not load is bad input, like a broken tariff.
    broken_config = options.config.exists() and any(
        c.area == "config" and c.outcome is Outcome.FAIL for c in checks
    )
    if broken_config:
        return EXIT_USAGE
    return EXIT_FAILURE if failed else EXIT_OK
