"""Talk to a ZVT card terminal, or decode ZVT bytes pasted from a terminal log.

  evkiosk zvt decode 04 0F 0A 27 00 04 00 00 00 00 25 00    one JSON object per APDU
  evkiosk zvt decode 10 02 80 00 00 10 03 F5 1F              serial frames: CRC is checked
  evkiosk zvt status --port tcp://192.168.1.50:22000
  evkiosk zvt end-of-day --port /dev/ttyUSB0 --password 123456
  evkiosk zvt open-preauths --port tcp://127.0.0.1:20007

Card data is masked in every output: a PAN shows at most its first 6 and last 4 digits,
track data never appears.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from typing import Any

from drivers.zvt.codec.apdu import decode_apdu, header_size
from drivers.zvt.codec.messages import decode_message
from drivers.zvt.errors import LinkError, ZvtDecodeError
from drivers.zvt.link import Timeouts
from drivers.zvt.terminal import ZvtConfig, ZvtTerminal
from drivers.zvt.transport_serial import DLE, STX, EventKind, SerialSettings, deframe
from kiosk.devices import DeviceError, PaymentOutcome

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    decode = sub.add_parser("decode", help="decode APDUs or serial frames given in hex")
    decode.add_argument("hex", nargs="*", help="hex bytes, spaces allowed; '-' or none: stdin")
    decode.set_defaults(handler=run_decode)
    for name, handler, summary in (
        ("status", run_status, "ask the terminal for its status (05 01)"),
        ("end-of-day", run_end_of_day, "close the terminal's batch and print its totals (06 50)"),
        ("open-preauths", run_open_preauths, "list the pre-auths the terminal holds open"),
    ):
        command = sub.add_parser(name, help=summary, description=summary)
        command.add_argument("--port", required=True, help="tcp://HOST[:PORT] or a serial device")
        command.add_argument("--password", default="000000", help="6-digit ZVT password")
        command.add_argument(
            "--baud", type=int, default=9600, choices=(9600, 19200, 38400, 57600, 115200)
        )
        command.add_argument("--stopbits", type=int, default=2, choices=(1, 2), help="serial only")
        command.add_argument("--currency", default="EUR")
        command.add_argument("--timeout", type=float, default=5.0, help="T3 in seconds")
        command.set_defaults(handler=handler)


def run(args: argparse.Namespace) -> int:
    return EXIT_USAGE  # every action sets its own handler


# ------------------------------------------------------------------ decode
# The driver's own log lines: "... ECR → PT 06 22 1E ... {decoded fields}".
_LOG_LINE = re.compile(r"(?:ECR → PT|PT → ECR) ([0-9A-Fa-f ]+?)(?: \{|$)")


def _read_hex(parts: list[str]) -> bytes:
    text = " ".join(parts) if parts and parts != ["-"] else sys.stdin.read()
    if "→" in text:  # a pasted driver log: take the hex of each APDU line
        text = " ".join(m.group(1) for m in map(_LOG_LINE.search, text.splitlines()) if m)
    cleaned = re.sub(r"[\s:,]|0x", "", text)
    bad = re.search(r"[^0-9a-fA-F]", cleaned)
    if bad:
        raise ValueError(f"not hex: {bad.group()!r} at character {bad.start() + 1}")
    if len(cleaned) % 2:
        raise ValueError(f"odd number of hex digits ({len(cleaned)})")
    return bytes.fromhex(cleaned)


def _decode_apdus(raw: bytes) -> tuple[list[dict[str, Any]], str | None]:
    out: list[dict[str, Any]] = []
    pos = 0
    while pos < len(raw):
        sizes = header_size(raw[pos:])
        if sizes is None or pos + sizes[0] + sizes[1] > len(raw):
            return out, f"APDU at byte {pos}: incomplete (length field says more than follows)"
        end = pos + sizes[0] + sizes[1]
        try:
            out.append(decode_message(decode_apdu(raw[pos:end])).to_json())
        except ZvtDecodeError as exc:
            return out, f"APDU at byte {pos}: {exc}"
        pos = end
    return out, None


def _decode_frames(raw: bytes) -> tuple[list[dict[str, Any]], str | None]:
    out: list[dict[str, Any]] = []
    for event in deframe(raw):
        if event.kind is EventKind.ACK:
            out.append({"transport": "ACK"})
        elif event.kind is EventKind.NAK:
            out.append({"transport": "NAK"})
        elif event.kind is EventKind.BAD_FRAME:
            return out, f"serial frame: {event.reason}"
        else:
            decoded, error = _decode_apdus(event.apdu)
            out += decoded
            if error:
                return out, error
    return out, None


def run_decode(args: argparse.Namespace) -> int:
    try:
        raw = _read_hex(list(args.hex))
    except ValueError as exc:
        print(f"evkiosk zvt decode: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # A serial capture starts with DLE STX, possibly after an ACK/NAK byte.
    start = raw[1:] if raw[:1] in (b"\x06", b"\x15") else raw
    framed = start[:2] == bytes([DLE, STX])
    decoded, error = _decode_frames(raw) if framed else _decode_apdus(raw)
    for item in decoded:
        print(json.dumps(item, ensure_ascii=False))
    if error:
        print(f"evkiosk zvt decode: {error}", file=sys.stderr)
        return EXIT_USAGE
    if not decoded:
        print("evkiosk zvt decode: no bytes given", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


# ------------------------------------------------------------------ terminal
def _terminal(args: argparse.Namespace) -> ZvtTerminal:
    timeouts = dataclasses.replace(Timeouts(), t3=args.timeout)
    config = ZvtConfig(
        port=args.port,
        password=args.password,
        currency=args.currency,
        serial=SerialSettings(baudrate=args.baud, stopbits=args.stopbits),
        timeouts=timeouts,
    )
    return ZvtTerminal(config)


def _with_terminal(args: argparse.Namespace, action: Any) -> int:
    prog = f"evkiosk zvt {args.action}"
    if len(args.password) != 6 or not args.password.isdigit():
        print(f"{prog}: --password must be 6 digits", file=sys.stderr)
        return EXIT_USAGE
    try:
        terminal = _terminal(args)
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(action(terminal))
    except (LinkError, DeviceError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        terminal.close()


def _emit(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, default=lambda o: o.value))


def run_status(args: argparse.Namespace) -> int:
    def action(terminal: ZvtTerminal) -> int:
        status = terminal.status()
        _emit(dataclasses.asdict(status))
        return EXIT_OK if status.raw_status is not None else EXIT_FAILURE

    return _with_terminal(args, action)


def run_end_of_day(args: argparse.Namespace) -> int:
    def action(terminal: ZvtTerminal) -> int:
        totals = terminal.end_of_day()
        _emit(dataclasses.asdict(totals))
        return EXIT_OK if totals.outcome is PaymentOutcome.APPROVED else EXIT_FAILURE

    return _with_terminal(args, action)


def run_open_preauths(args: argparse.Namespace) -> int:
    def action(terminal: ZvtTerminal) -> int:
        _emit([dataclasses.asdict(p) for p in terminal.open_preauths()])
        return EXIT_OK

    return _with_terminal(args, action)
