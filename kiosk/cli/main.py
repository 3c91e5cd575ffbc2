"""The `evkiosk` command: one entry point, subcommands loaded on demand.

Each subcommand lives in the layer that owns it (the tariff tools in the core, the meter and
terminal tools in drivers, the service in backend, the app in ui) and is named here only by
its module path. Loading on demand keeps `evkiosk tariff ...` from importing Qt or pymodbus,
and keeps this core module free of imports from outer layers.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from kiosk.children import exit_with_parent

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CommandModule(Protocol):
    """What a subcommand module provides."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


@dataclass(frozen=True)
class Command:
    name: str
    module: str
    summary: str
    group: str


COMMANDS: tuple[Command, ...] = (
    Command("run", "ui.cli", "start the kiosk (add --simulate for simulated hardware)", "Station"),
    Command("status", "kiosk.cli.status", "summarise devices, open holds and outbox", "Station"),
    Command(
        "doctor",
        "drivers.cli.doctor",
        "check config, ports, devices, backend and journal",
        "Station",
    ),
    Command("journal", "kiosk.cli.journal", "check, back up or restore the journal", "Station"),
    Command(
        "tariff", "kiosk.cli.tariff", "check an OCPI tariff: price a CDR, show prices", "Pricing"
    ),
    Command("meter", "drivers.cli.meter", "read an energy meter (Modbus RTU/TCP)", "Installer"),
    Command("charger", "drivers.cli.charger", "read or switch a charge controller", "Installer"),
    Command("zvt", "drivers.cli.zvt", "talk to a card terminal or decode ZVT bytes", "Installer"),
    Command("sim", "drivers.cli.sim", "run a device simulator standalone", "Installer"),
    Command("backend", "backend.cli", "run and administer the operator backend", "Operator"),
)


def _version() -> str:
    # Only for --version: importlib.metadata added 3.7 MB to every start of the station.
    from importlib import metadata  # noqa: PLC0415

    try:
        return metadata.version("evkiosk")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "0+unknown"


def _overview() -> str:
    lines = [
        "usage: evkiosk [--version] COMMAND [ARGS...]",
        "",
        "Payment kiosk for EV charging stations.",
        "",
    ]
    width = max(len(c.name) for c in COMMANDS)
    for group in dict.fromkeys(c.group for c in COMMANDS):
        lines.append(f"{group} commands:")
        lines.extend(f"  {c.name.ljust(width)}  {c.summary}" for c in COMMANDS if c.group == group)
        lines.append("")
    lines += [
        "Run 'evkiosk COMMAND --help' for the options of one command.",
        "Quick start on simulated hardware:  evkiosk run --simulate",
    ]
    return "\n".join(lines)


def _load(command: Command) -> CommandModule | None:
    try:
        return cast(CommandModule, importlib.import_module(command.module))
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if command.module.startswith(missing) or missing.startswith(command.module):
            return None  # the command is not built into this version yet
        raise


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        exit_with_parent()  # a simulator or backend started by a kiosk ends with it
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_overview())
        return EXIT_OK if args else EXIT_USAGE
    if args[0] == "--version":
        print(f"evkiosk {_version()}")
        return EXIT_OK
    by_name = {c.name: c for c in COMMANDS}
    command = by_name.get(args[0])
    if command is None:
        print(f"evkiosk: unknown command {args[0]!r}\n", file=sys.stderr)
        print(_overview(), file=sys.stderr)
        return EXIT_USAGE
    module = _load(command)
    if module is None:
        print(f"evkiosk {command.name}: not available in this version yet", file=sys.stderr)
        return EXIT_FAILURE
    parser = argparse.ArgumentParser(
        prog=f"evkiosk {command.name}",
        description=(module.__doc__ or command.summary).strip().split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.add_arguments(parser)
    ns = parser.parse_args(args[1:])
    handler: Callable[[argparse.Namespace], int] = getattr(ns, "handler", module.run)
    try:
        return handler(ns)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
