"""Find the journal an operator command works on: --journal, else the station config's."""

from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.config import ConfigError, load_config
from kiosk.paths import config_file


class LocateError(ValueError):
    """The journal cannot be located (bad or missing config): a usage error, exit 2."""


def add_location_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="station config (default: $EVKIOSK_CONFIG, else station.toml in the config dir)",
    )
    parser.add_argument(
        "--journal", metavar="PATH", type=Path, help="the journal file itself (skips the config)"
    )


def journal_path(args: argparse.Namespace) -> Path:
    if getattr(args, "journal", None) is not None:
        return Path(args.journal)
    source = config_file(getattr(args, "config", None))
    try:
        return load_config(source).journal_path
    except ConfigError as exc:
        raise LocateError(
            f"{exc}\n(the journal's location comes from the config; or pass --journal PATH)"
        ) from None
