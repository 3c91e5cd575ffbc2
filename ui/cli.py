"""Start the kiosk app.

`evkiosk run --simulate` runs the whole station on simulated hardware: card terminal, meter,
charge controller and the embedded backend, all speaking their real protocols.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--simulate", action="store_true", help="use simulated terminal, meter, charger, backend"
    )
    parser.add_argument("--config", metavar="FILE", help="station config (TOML)")


def run(args: argparse.Namespace) -> int:
    print(
        "evkiosk run: the touchscreen app is not part of this version yet.\n"
        "What works today:\n"
        "  evkiosk tariff show assets/samples/tariff.json     the price a driver sees\n"
        "  evkiosk tariff price TARIFF.json CDR.json           price a charging session\n"
        "Run 'evkiosk --help' for every command.",
        file=sys.stderr,
    )
    return 0
