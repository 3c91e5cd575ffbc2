"""Read an energy meter over Modbus RTU, an RTU gateway or Modbus TCP.

evkiosk meter read --profile sdm630 --port /dev/ttyUSB0 [--unit 1] [--baud 9600 --parity N]
evkiosk meter read --profile sdm630 --port tcp://192.0.2.10:502 --json --watch 2
evkiosk meter profiles
evkiosk meter ocmf-identity --profile em580 --port /dev/ttyUSB0   (signing meters)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

from drivers.cli.meter_ocmf import add_identity_parser
from drivers.meter.modbus_meter import ModbusMeter
from drivers.modbus.cliargs import UsageError, add_connection_arguments, open_device
from drivers.modbus.registermap import available_models, load_map
from kiosk.devices import DeviceError, MeterReading


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    read = sub.add_parser("read", help="print one reading (or one per --watch interval)")
    add_connection_arguments(read, "meter")
    read.add_argument("--json", action="store_true", help="one JSON object per reading")
    read.add_argument("--watch", type=float, metavar="SECONDS", help="read again every SECONDS")
    read.add_argument("--count", type=int, help="with --watch: stop after this many readings")
    read.set_defaults(handler=run)
    profiles = sub.add_parser("profiles", help="list the meter models shipped with evkiosk")
    profiles.set_defaults(handler=_profiles)
    add_identity_parser(sub)


def _profiles(args: argparse.Namespace) -> int:
    for name in available_models():
        regmap = load_map(name)
        if regmap.kind == "meter":
            print(f"{name:16} {regmap.title}")
    return 0


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def reading_json(reading: MeterReading, args: argparse.Namespace, unit: int) -> dict[str, Any]:
    export = reading.energy_export_wh
    return {
        "profile": args.profile,
        "port": args.port,
        "unit": unit,
        "measured_at": reading.measured_at.isoformat(),
        "energy_import_wh": reading.energy_import_wh,
        "energy_import_kwh": reading.energy_import_wh / 1000,
        "energy_export_kwh": None if export is None else export / 1000,
        "power_w": _number(reading.power_w),
        "voltage_v": [_number(v) for v in reading.voltage_v],
        "current_a": [_number(a) for a in reading.current_a],
        "frequency_hz": _number(reading.frequency_hz),
    }


def _phases(values: tuple[float, ...], unit: str, digits: int) -> str:
    if not values:
        return "-"
    return " / ".join("n/a" if math.isnan(v) else f"{v:.{digits}f}" for v in values) + f" {unit}"


def reading_text(reading: MeterReading) -> str:
    power = "n/a" if reading.power_w is None else f"{reading.power_w:.0f} W"
    freq = "-" if reading.frequency_hz is None else f"{reading.frequency_hz:.2f} Hz"
    lines = [
        f"measured at     {reading.measured_at.isoformat(timespec='seconds')}",
        f"energy import   {reading.energy_import_wh / 1000:.3f} kWh",
        f"power           {power}",
        f"voltage         {_phases(reading.voltage_v, 'V', 1)}",
        f"current         {_phases(reading.current_a, 'A', 2)}",
        f"frequency       {freq}",
    ]
    if reading.energy_export_wh is not None:
        lines.insert(2, f"energy export   {reading.energy_export_wh / 1000:.3f} kWh")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.watch is not None and args.watch <= 0:
        print("evkiosk meter: --watch must be a positive number of seconds", file=sys.stderr)
        return 2
    try:
        regmap, bus, link = open_device(args, "meter")
    except UsageError as exc:
        print(f"evkiosk meter: {exc}", file=sys.stderr)
        return 2
    meter = ModbusMeter(link, regmap, name=f"meter {regmap.model} unit {link.unit} on {args.port}")
    failures = readings = 0
    try:
        while True:
            try:
                reading = meter.read()
            except DeviceError as exc:
                failures += 1
                print(f"evkiosk meter: {exc}", file=sys.stderr)
            else:
                if args.json:
                    print(json.dumps(reading_json(reading, args, link.unit)), flush=True)
                else:
                    print(reading_text(reading), flush=True)
            readings += 1
            if args.watch is None or (args.count is not None and readings >= args.count):
                break
            time.sleep(args.watch)
    except KeyboardInterrupt:
        pass
    finally:
        bus.close()
    return 1 if failures == readings else 0
