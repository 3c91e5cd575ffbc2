"""Run a simulated meter or charge controller speaking real Modbus, until interrupted.

evkiosk sim meter   --listen tcp://127.0.0.1:5020 [--profile sdm630] [--with-charger phoenix-ev-eth]
evkiosk sim charger --listen tcp://127.0.0.1:5021 [--profile phoenix-ev-eth]
evkiosk sim meter   --listen pty              RTU on a pseudo-terminal (its path is printed)
evkiosk sim meter   --listen socket://127.0.0.1:5020   RTU framing over TCP, like a gateway
evkiosk sim meter   --listen tcp://127.0.0.1:5020 --signing wm3m4c [--key meter.pem]

Prints one JSON line with the ports and unit ids, then reads commands on stdin (`help`).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from drivers.modbus.endpoint import Transport, parse_port
from drivers.modbus.registermap import MapError
from drivers.modbus_sim.commands import HELP, execute
from drivers.modbus_sim.station import SimStation

_DEFAULT_PROFILE = {"meter": "sdm630", "charger": "phoenix-ev-eth"}


def add_arguments(parser: argparse.ArgumentParser, kind: str) -> None:
    parser.add_argument(
        "--listen",
        required=True,
        help="tcp://HOST:PORT (Modbus TCP), socket://HOST:PORT (RTU over TCP) or pty (RTU)",
    )
    parser.add_argument("--profile", default=_DEFAULT_PROFILE[kind], help="model to simulate")
    parser.add_argument("--unit", type=int, help="unit id (default: the profile's)")
    other = "charger" if kind == "meter" else "meter"
    parser.add_argument(
        f"--with-{other}",
        metavar="PROFILE",
        help=f"also simulate a {other} on the same model (same line for pty/socket, next port "
        "for tcp)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated time per real second (above about 5 the meter driver's jump check trips)",
    )
    parser.add_argument(
        "--plugged",
        action="store_true",
        help="start with a car plugged in (and, for a lone meter, charging)",
    )
    if kind == "meter":
        parser.add_argument(
            "--signing",
            metavar="MODEL",
            help="a signing meter (em580, wm3m4c): live values and signed OCMF records; its "
            "public key is in the first line",
        )
        parser.add_argument(
            "--key",
            metavar="PEM",
            help="the signing meter's private key (PEM file; kept "
            "across restarts), a new key otherwise",
        )
    parser.add_argument("--baud", type=int, default=9600, help="baud rate for --listen pty")
    parser.add_argument("--debug", action="store_true", help="show pymodbus' own log")
    parser.set_defaults(kind=kind)


def _listen(spec: str) -> tuple[str, str, int]:
    if spec == "pty":
        return "pty", "127.0.0.1", 0
    endpoint = parse_port(spec, listening=True)
    if endpoint.transport is Transport.SERIAL:
        raise ValueError(f"--listen {spec!r}: use tcp://HOST:PORT, socket://HOST:PORT or pty")
    kind = "tcp" if endpoint.transport is Transport.TCP else "rtu-tcp"
    return kind, endpoint.host, endpoint.port


def _key(path: str | None) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"--key {path}: cannot read: {exc.strerror or exc}") from None


def _ports(transport: str, kind: str, port: int, second: int) -> tuple[int, int]:
    if transport != "tcp":
        return port, port  # one line for both devices
    return (port, second) if kind == "meter" else (second, port)


def run(args: argparse.Namespace) -> int:
    kind: str = args.kind
    if not args.debug:
        # pymodbus logs every refused request with a frame dump; the simulator stays quiet.
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    other = "charger" if kind == "meter" else "meter"
    other_profile = getattr(args, f"with_{other}")
    profiles = {kind: args.profile, other: other_profile}
    try:
        transport, host, port = _listen(args.listen)
        second_port = port + 1 if port and other_profile else 0
        station = SimStation.start(
            transport=transport,
            meter_profile=profiles["meter"],
            controller_profile=profiles["charger"],
            meter_unit=args.unit if kind == "meter" else None,
            controller_unit=args.unit if kind == "charger" else None,
            speed=args.speed,
            baudrate=args.baud,
            host=host,
            ports=_ports(transport, kind, port, second_port),
            signing=getattr(args, "signing", None),
            signing_key_pem=_key(getattr(args, "key", None)),
        )
    except (ValueError, MapError) as exc:
        print(f"evkiosk sim {kind}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"evkiosk sim {kind}: cannot listen on {args.listen}: {exc}", file=sys.stderr)
        return 1
    if args.plugged:
        station.plug_in()
        if station.controller is None:
            station.model.set_enabled(True)
    ready: dict[str, object] = {}
    if station.meter is not None:
        shown: dict[str, object] = {
            "port": station.meter_port,
            "unit": station.meter.unit,
            "profile": getattr(args, "signing", None) or profiles["meter"],
        }
        public_key = getattr(station.meter, "public_key", None)
        if public_key is not None:
            shown["public_key"] = public_key  # DER, hex: what the meter publishes
        ready["meter"] = shown
    if station.controller is not None:
        ready["controller"] = {
            "port": station.controller_port,
            "unit": station.controller.unit,
            "profile": profiles["charger"],
        }
    print(json.dumps(ready), flush=True)

    stop = threading.Event()

    def _terminate(signum: int, frame: FrameType | None) -> None:
        stop.set()

    def _commands() -> None:
        for line in sys.stdin:
            if line.strip() == "help":
                print(HELP, flush=True)
                continue
            try:
                print(execute(station, line), flush=True)
            except ValueError as exc:
                print(f"error: {exc}", flush=True)

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    # Commands are read on a side thread, so a closed stdin keeps the simulator serving.
    threading.Thread(target=_commands, name="sim-commands", daemon=True).start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        station.close()
    return 0
