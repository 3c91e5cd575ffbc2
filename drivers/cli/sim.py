"""Run a device simulator standalone, so a real tool or a real kiosk can be pointed at it.

evkiosk sim meter    --listen tcp://127.0.0.1:5020     energy meter (Modbus TCP or RTU)
evkiosk sim charger  --listen tcp://127.0.0.1:5021     charge controller (Modbus)
evkiosk sim terminal --listen tcp://127.0.0.1:20007    ZVT card terminal (TCP or --pty)
evkiosk sim csms     --port 9000                       OCPP CSMS (Node.js test peer)
"""

from __future__ import annotations

import argparse
import importlib
from typing import Protocol, cast

# Each simulator family owns its module; this file only routes to them.
_KINDS: dict[str, tuple[str, str]] = {
    "meter": ("drivers.cli.sim_modbus", "energy meter speaking Modbus, with a charging model"),
    "charger": ("drivers.cli.sim_modbus", "charge controller speaking Modbus"),
    "terminal": ("drivers.cli.sim_terminal", "ZVT payment terminal (PT side)"),
    "csms": ("drivers.cli.sim_csms", "OCPP CSMS to try the [ocpp] link (the Node.js test peer)"),
}


class _SimModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser, kind: str) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _unavailable(args: argparse.Namespace) -> int:
    print(f"evkiosk sim {args.kind}: this simulator is not part of this version yet")
    return 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, (module_name, summary) in _KINDS.items():
        kind_parser = sub.add_parser(kind, help=summary, description=summary)
        try:
            module = cast(_SimModule, importlib.import_module(module_name))
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            kind_parser.set_defaults(handler=_unavailable)
            continue
        module.add_arguments(kind_parser, kind)
        kind_parser.set_defaults(handler=module.run)


def run(args: argparse.Namespace) -> int:
    return _unavailable(args)  # only reached if a handler was not set
