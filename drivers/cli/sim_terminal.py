"""Run the ZVT terminal simulator standalone (PT side), on a TCP port or a pty pair.

Prints ``listening tcp://HOST:PORT`` (or ``listening /dev/pts/N`` with --pty) and, with
--control, ``control tcp://127.0.0.1:PORT``; then serves until interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from drivers.zvt_sim import Delays, TerminalSimulator
from drivers.zvt_sim.control import ControlServer


def add_arguments(parser: argparse.ArgumentParser, kind: str) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--listen", metavar="tcp://127.0.0.1:PORT", help="serve ZVT over TCP")
    where.add_argument("--pty", action="store_true", help="serve on a new pty; prints its path")
    parser.add_argument("--state", type=Path, help="JSON file keeping open pre-auths and totals")
    parser.add_argument(
        "--control",
        metavar="tcp://127.0.0.1:PORT",
        help="JSON-lines control socket for scripting cards and faults",
    )
    parser.add_argument("--terminal-id", default="52523535", help="8-digit terminal id")
    parser.add_argument("--card-seconds", type=float, help="delay until the card is read")
    parser.add_argument("--host-seconds", type=float, help="delay of the host authorisation")
    parser.add_argument("--no-delays", action="store_true", help="card and host delays of 0")


def _local_port(url: str, option: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme != "tcp" or parts.hostname != "127.0.0.1":
        raise ValueError(f"{option} {url!r}: expected tcp://127.0.0.1:PORT")
    return parts.hostname, parts.port or 0


def run(args: argparse.Namespace) -> int:
    delays = Delays.zero() if args.no_delays else Delays()
    changes = {
        k: v
        for k, v in (("card_seconds", args.card_seconds), ("host_seconds", args.host_seconds))
        if v is not None
    }
    delays = dataclasses.replace(delays, **changes)
    if len(args.terminal_id) != 8 or not args.terminal_id.isdigit():
        print("evkiosk sim terminal: --terminal-id must be 8 digits", file=sys.stderr)
        return 2
    try:
        control_port = _local_port(args.control, "--control")[1] if args.control else None
        if args.pty:
            sim = TerminalSimulator.start_pty(
                state_file=args.state, delays=delays, terminal_id=args.terminal_id
            )
        else:
            host, port = _local_port(args.listen, "--listen")
            sim = TerminalSimulator.start_tcp(
                host, port, state_file=args.state, delays=delays, terminal_id=args.terminal_id
            )
    except ValueError as exc:
        print(f"evkiosk sim terminal: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"evkiosk sim terminal: cannot start ({exc})", file=sys.stderr)
        return 1
    control = ControlServer(sim, control_port) if control_port is not None else None
    print(f"listening {sim.address}", flush=True)
    if control is not None:
        print(f"control {control.address}", flush=True)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        if control is not None:
            control.stop()
        sim.stop()
    return 0
