"""Command-line plumbing shared by `evkiosk meter` and `evkiosk charger`: PORT, line, unit id."""

from __future__ import annotations

import argparse
import logging

from drivers.modbus.bus import DeviceLink, ModbusBus, RetryPolicy
from drivers.modbus.endpoint import PARITIES, SerialSettings, parse_port
from drivers.modbus.registermap import RegisterMap, available_models, load_map


class UsageError(ValueError):
    """Bad input on the command line: exit code 2, the message says which option and why."""


def add_connection_arguments(parser: argparse.ArgumentParser, kind: str) -> None:
    shipped = ", ".join(m for m in available_models() if load_map(m).kind == kind)
    parser.add_argument(
        "--profile",
        required=True,
        help=f"device model ({shipped}) or the path of a .json/.toml register map",
    )
    parser.add_argument(
        "--port",
        required=True,
        help="serial device (/dev/ttyUSB0), socket://HOST:PORT (RTU gateway) or tcp://HOST:PORT",
    )
    parser.add_argument("--unit", type=int, help="Modbus unit id (default: the profile's)")
    parser.add_argument("--baud", type=int, help="baud rate for RTU (default: the profile's)")
    parser.add_argument("--parity", choices=PARITIES, help="parity for RTU: N, E or O")
    parser.add_argument("--stopbits", type=int, choices=(1, 2), help="stop bits for RTU")
    parser.add_argument("--timeout", type=float, help="seconds to wait for a reply")
    parser.add_argument("--gap-ms", type=int, help="pause before each request, in ms")
    parser.add_argument("--debug", action="store_true", help="show pymodbus' own log")


def open_device(args: argparse.Namespace, kind: str) -> tuple[RegisterMap, ModbusBus, DeviceLink]:
    """Build map, bus and link from the arguments. Raises UsageError for bad input."""
    if not args.debug:
        # pymodbus logs every timeout with frame dumps; the installer gets our one-line message.
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    try:
        regmap = load_map(args.profile)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if regmap.kind != kind:
        raise UsageError(f"--profile {args.profile}: this is a {regmap.kind} profile, not a {kind}")
    try:
        endpoint = parse_port(args.port)
        serial = SerialSettings(
            baudrate=args.baud or regmap.comms.baudrate,
            parity=args.parity or regmap.comms.parity,
            stopbits=args.stopbits or regmap.comms.stopbits,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    timeout = args.timeout if args.timeout is not None else regmap.comms.timeout_s
    if timeout <= 0:
        raise UsageError("--timeout must be positive")
    unit = args.unit if args.unit is not None else regmap.comms.unit
    if not 0 <= unit <= 255:
        raise UsageError(f"--unit {unit}: must be 0..255 (RTU devices use 1..247)")
    gap = args.gap_ms / 1000 if args.gap_ms is not None else regmap.comms.gap_s
    bus = ModbusBus(endpoint, serial, policy=RetryPolicy(attempts=3, timeout_s=timeout))
    return regmap, bus, DeviceLink(bus, unit, gap)
