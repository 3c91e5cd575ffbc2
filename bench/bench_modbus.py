"""Time per poll of a full SDM630 snapshot, next to the RS485 wire-time floor.

    .venv/bin/python bench/bench_modbus.py [--polls 200]

The simulator runs in a subprocess (`evkiosk sim meter`), so the CPU time measured here is the
driver's own: pymodbus framing, decoding, plausibility checks. Transports: Modbus TCP, RTU on a
pty pair, and RTU over TCP (a transparent gateway). A pty does not pace bytes at the baud rate,
so the RTU figures show software cost; the wire-time floor (research/meters.md §6) is what a
real 9600 or 38400 baud line adds at least, before any device turnaround.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.meter.modbus_meter import ModbusMeter
from drivers.modbus.bus import DeviceLink, ModbusBus, RetryPolicy
from drivers.modbus.endpoint import SerialSettings, parse_port
from drivers.modbus.registermap import load_map
from drivers.modbus_sim.process import SimProcess

SNAPSHOT_REGISTERS = 76  # SDM630 0x0000..0x004B in one block
SINGLE_READS = 13  # the same 13 floats read one by one
HOLE_FREE_BLOCKS = [18, 2, 6]  # 0x00-0x11, 0x34-0x35, 0x46-0x4B


def wire_floor_ms(baud: int, requests: list[int], bits_per_char: int = 10) -> float:
    """Request + t3.5 + response + t3.5 per transaction, for replies of `requests` registers."""
    char_s = bits_per_char / baud
    t35 = 3.5 * char_s if baud <= 19200 else 0.00175
    total = 0.0
    for count in requests:
        total += (8 + 5 + 2 * count) * char_s + 2 * t35
    return total * 1000


def measure(port: str, polls: int) -> tuple[float, float, float, float, int]:
    bus = ModbusBus(parse_port(port), SerialSettings(9600), policy=RetryPolicy(timeout_s=1.0))
    try:
        meter = ModbusMeter(DeviceLink(bus, 1), load_map("sdm630"), max_power_w=1e9)
        meter.read()  # connect, warm up, and settle the block plan
        times = []
        cpu0 = time.process_time()
        for _ in range(polls):
            t0 = time.perf_counter()
            meter.read()
            times.append(time.perf_counter() - t0)
        cpu = (time.process_time() - cpu0) / polls
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        return (
            statistics.mean(times) * 1000,
            statistics.median(times) * 1000,
            p95 * 1000,
            cpu * 1000,
            meter.requests_per_pass,
        )
    finally:
        bus.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--polls", type=int, default=200)
    args = parser.parse_args()
    print("SDM630 full snapshot (V/I/P per phase, total P, Hz, import, export = 13 floats)")
    head = ("transport", "mode", "req", "mean ms", "median", "p95", "CPU ms")
    print("{:12} {:14} {:>3} {:>8} {:>8} {:>8} {:>7}".format(*head))
    for listen in ("tcp://127.0.0.1:0", "pty", "socket://127.0.0.1:0"):
        with SimProcess("meter", listen=listen) as sim:
            port = sim.ready["meter"]["port"]
            name = {"tcp": "TCP", "pty": "RTU pty", "socket": "RTU gateway"}[listen.split(":")[0]]
            # The simulator's faults make the driver fall back: to hole-free blocks when the
            # meter refuses undocumented addresses, to single registers when it refuses blocks.
            for mode, fault in (
                ("1 x 76 regs", None),
                ("3 hole-free", "holes_refused"),
                ("13 x 2 regs", "block_refused"),
            ):
                if fault:
                    sim.command("clear")
                    sim.command(f"fault meter {fault}")
                mean, median, p95, cpu, requests = measure(port, args.polls)
                row = (name, mode, requests, mean, median, p95, cpu)
                print("{:12} {:14} {:3d} {:8.2f} {:8.2f} {:8.2f} {:7.2f}".format(*row))
    print()
    print("Wire-time floor on RS485 (8N1, request + t3.5 + reply + t3.5, no device turnaround):")
    for baud in (9600, 38400):
        block = wire_floor_ms(baud, [SNAPSHOT_REGISTERS])
        holes = wire_floor_ms(baud, HOLE_FREE_BLOCKS)
        singles = wire_floor_ms(baud, [2] * SINGLE_READS)
        print(
            f"  {baud:5d} baud: 1 x 76 regs {block:6.1f} ms   3 hole-free {holes:6.1f} ms"
            f"   13 x 2 regs {singles:6.1f} ms"
        )
    print("Add the profile's inter-request gap (sdm630: 50 ms) per request on a real line.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
