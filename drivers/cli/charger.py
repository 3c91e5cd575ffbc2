"""Read or switch a charge controller over Modbus.

evkiosk charger status      --profile phoenix-ev-eth --port tcp://192.0.2.20:502 [--json]
evkiosk charger enable      --profile phoenix-ev-ser --port /dev/ttyUSB0 --unit 2
evkiosk charger disable     --profile bender-cc612 --port tcp://192.0.2.30:502
evkiosk charger set-current 16 --profile phoenix-ev-eth --port tcp://192.0.2.20:502
evkiosk charger profiles
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from drivers.charger.controller_map import controller_spec
from drivers.charger.modbus_controller import ModbusChargeController
from drivers.modbus.cliargs import UsageError, add_connection_arguments, open_device
from drivers.modbus.registermap import MapError, available_models, load_map
from kiosk.devices import ControllerStatus, DeviceError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, summary in (
        ("status", "show the connector state (IEC 61851), enable flag and current limit"),
        ("enable", "allow charging"),
        ("disable", "stop charging"),
        ("set-current", "set the maximum charging current in A"),
    ):
        p = sub.add_parser(action, help=summary, description=summary)
        if action == "set-current":
            p.add_argument("amps", type=float, help="maximum charging current in A")
        add_connection_arguments(p, "charger")
        p.add_argument("--json", action="store_true", help="print the status as one JSON object")
        p.set_defaults(handler=run)
    profiles = sub.add_parser("profiles", help="list the controller models shipped with evkiosk")
    profiles.set_defaults(handler=_profiles)


def _profiles(args: argparse.Namespace) -> int:
    for name in available_models():
        regmap = load_map(name)
        if regmap.kind == "charger":
            print(f"{name:16} {regmap.title}")
    return 0


def status_json(status: ControllerStatus, args: argparse.Namespace, unit: int) -> dict[str, Any]:
    return {
        "profile": args.profile,
        "port": args.port,
        "unit": unit,
        "measured_at": status.measured_at.isoformat(),
        "state": status.state.value,
        "raw_state": status.raw_state,
        "vehicle_connected": status.state.vehicle_connected,
        "charging_enabled": status.charging_enabled,
        "current_limit_a": status.current_limit_a,
        "error_flags": sorted(status.error_flags),
    }


def status_text(status: ControllerStatus) -> str:
    flags = ", ".join(sorted(status.error_flags)) or "none"
    limit = "-" if status.current_limit_a is None else f"{status.current_limit_a:g} A"
    return "\n".join(
        [
            f"measured at       {status.measured_at.isoformat(timespec='seconds')}",
            f"state             {status.state.value} (raw {status.raw_state!r})",
            f"charging enabled  {'yes' if status.charging_enabled else 'no'}",
            f"current limit     {limit}",
            f"error flags       {flags}",
        ]
    )


def run(args: argparse.Namespace) -> int:
    try:
        regmap, bus, link = open_device(args, "charger")
        spec = controller_spec(regmap)
    except (UsageError, MapError) as exc:
        print(f"evkiosk charger: {exc}", file=sys.stderr)
        return 2
    name = f"controller {regmap.model} unit {link.unit} on {args.port}"
    controller = ModbusChargeController(link, spec, name=name)
    try:
        if args.action == "set-current":
            controller.set_current_limit(args.amps)
        elif args.action in ("enable", "disable"):
            if args.action == "enable" and spec.enable_kind == "current_zero":
                # This controller enables by writing the current: use the one it holds now,
                # or the lowest allowed if it holds 0.
                current = controller.status().current_limit_a or spec.min_a
                controller.set_current_limit(max(spec.min_a, min(spec.max_a, current)))
            controller.enable_charging(args.action == "enable")
        status = controller.status()
    except ValueError as exc:
        print(f"evkiosk charger: {exc}", file=sys.stderr)
        return 2
    except DeviceError as exc:
        print(f"evkiosk charger: {exc}", file=sys.stderr)
        return 1
    finally:
        bus.close()
    if args.json:
        print(json.dumps(status_json(status, args, link.unit)))
    else:
        print(status_text(status))
    return 0
