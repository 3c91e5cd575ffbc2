"""`evkiosk meter ocmf-identity`: what a signing meter reports about itself (Eichrecht).

Shows the public key in the form the Transparenzsoftware and the Bundesnetzagentur's register
use (DER, hex), whether the meter can sign, its serial number and firmware.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys

from drivers.modbus.bus import DeviceLink, ModbusBus, RetryPolicy
from drivers.modbus.endpoint import PARITIES, SerialSettings, parse_port
from drivers.modbus.registermap import MapError
from drivers.ocmf_meter.protocol import build_signer
from drivers.ocmf_meter.signing_map import load_signing_map, signing_models
from kiosk.devices import DeviceError


def add_identity_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("ocmf-identity", help="public key, signing status and firmware of a meter")
    models = ", ".join(signing_models())
    p.add_argument("--profile", required=True, help=f"signing meter ({models})")
    p.add_argument("--port", required=True, help="/dev/ttyUSB0, socket://HOST:PORT or tcp://…")
    p.add_argument("--unit", type=int, help="Modbus unit id (default: the profile's)")
    p.add_argument("--baud", type=int, default=None, help="baud rate for RTU")
    p.add_argument("--parity", choices=PARITIES, help="parity for RTU: N, E or O")
    p.add_argument("--timeout", type=float, help="seconds to wait for a reply")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(handler=run_identity)


def run_identity(args: argparse.Namespace) -> int:
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    try:
        smap = load_signing_map(args.profile)
        endpoint = parse_port(args.port)
        serial = SerialSettings(baudrate=args.baud or 9600, parity=args.parity or "N")
    except (MapError, ValueError) as exc:
        print(f"evkiosk meter: {exc}", file=sys.stderr)
        return 2
    timeout = args.timeout if args.timeout is not None else smap.timeout_s
    if timeout <= 0:
        print("evkiosk meter: --timeout must be positive", file=sys.stderr)
        return 2
    bus = ModbusBus(endpoint, serial, policy=RetryPolicy(attempts=3, timeout_s=timeout))
    try:
        unit = args.unit if args.unit is not None else smap.unit
        ident = build_signer(DeviceLink(bus, unit, smap.gap_s), smap).identity()
    except (DeviceError, ValueError) as exc:
        print(f"evkiosk meter: {exc}", file=sys.stderr)
        return 1
    finally:
        bus.close()
    if args.json:
        print(json.dumps(dataclasses.asdict(ident)))
    else:
        print(f"model           {ident.model}")
        print(f"serial          {ident.serial}")
        print(f"firmware        {ident.firmware or 'not in the map'}")
        print(f"signing         {'yes' if ident.signing else 'NO: no key, not Eichrecht-ready'}")
        print(f"public key      {ident.public_key or '-'}")
    return 0 if ident.signing else 1
