"""ZVT figures: codec throughput, and full pre-auth → book cycles against the simulator.

The simulator's card and host delays are zero, so the cycle time is the driver's own overhead
plus the simulator and the link (pty or loopback TCP). A cycle is: open pre-auth snapshot
(06 23 FFFF), pre-auth (06 22), partial reversal (06 23). It is measured with the simulator's
ledger in memory (the driver's overhead) and in its fsync'd state file (what a PT's own
storage adds). Run:

    .venv/bin/python bench/bench_zvt.py [--cycles 200] [--seconds 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from drivers.zvt.codec.apdu import Apdu, decode_apdu
from drivers.zvt.codec.bmp import encode_bmp
from drivers.zvt.codec.messages import decode_message
from drivers.zvt.link import Timeouts
from drivers.zvt.terminal import ZvtConfig, ZvtTerminal
from drivers.zvt.transport_serial import Deframer, encode_frame
from drivers.zvt_sim import Delays, TerminalSimulator


def status_information() -> bytes:
    data = (
        bytes([0x27, 0x00])
        + encode_bmp(0x04, 2500)
        + encode_bmp(0x49, 978)
        + encode_bmp(0x0B, 975)
        + encode_bmp(0x0C, "225558")
        + encode_bmp(0x0D, "0405")
        + encode_bmp(0x22, bytes.fromhex("541333EEEEEE0011"))
        + encode_bmp(0x29, "52523535")
        + encode_bmp(0x3B, "750071")
        + encode_bmp(0x87, 231)
        + encode_bmp(0x8A, 0x06)
        + encode_bmp(0x8B, "MasterCard\x00")
    )
    return Apdu(0x04, 0x0F, data).encode()


def rate(label: str, seconds: float, step: Callable[[], int]) -> None:
    count = 0
    units = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        units += step()
        count += 1
    print(f"{label:<44} {count / elapsed:>10,.0f} /s   {units / elapsed / 1e6:>7.2f} MB/s")


def bench_codec(seconds: float) -> None:
    raw = status_information()
    frames = b"".join(encode_frame(raw) for _ in range(100))
    rate(
        "decode 04 0F (APDU → named fields)",
        seconds,
        lambda: len(raw) if decode_message(decode_apdu(raw)).fields else 0,
    )
    rate("encode serial frame (stuffing + CRC)", seconds, lambda: len(encode_frame(raw)))

    def deframe() -> int:
        Deframer().feed(frames)
        return len(frames)

    rate("deframe 100 serial frames (CRC checked)", seconds, deframe)


def bench_cycles(kind: str, cycles: int, durable: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # Without a state file the simulator's ledger lives in memory: no fsync in the figure.
        state = Path(tmp) / "pt.json" if durable else None
        timeouts = Timeouts(t1=0.2, t2=1.0, t3=2.0, t4=10.0, poll=0.01)
        if kind == "pty":
            sim = TerminalSimulator.start_pty(
                state_file=state, delays=Delays.zero(), link_timeouts=timeouts
            )
        else:
            sim = TerminalSimulator.start_tcp(state_file=state, delays=Delays.zero())
        term = ZvtTerminal(ZvtConfig(port=sim.address, timeouts=timeouts))
        term.status()  # connect and register outside the measurement
        per_cycle: list[float] = []
        for n in range(cycles):
            start = time.perf_counter()
            auth = term.preauthorise(2500, "EUR", f"B{n}", lambda _r: None, lambda _t: None)
            done = term.settle(auth, 1295, lambda _r: None)
            per_cycle.append(time.perf_counter() - start)
            assert done.amount_minor == 1295, done
        term.close()
        booked = len(sim.ledger()["booked"])  # type: ignore[arg-type]
        sim.stop()
    ms = sorted(t * 1000 for t in per_cycle)
    print(
        f"pre-auth → book, {kind:<3} {'fsync ledger' if durable else 'memory ledger'},"
        f" {cycles} cycles: median {statistics.median(ms):6.2f} ms,"
        f" p95 {ms[int(len(ms) * 0.95) - 1]:6.2f} ms, {cycles / sum(per_cycle):6.1f} cycles/s"
        f" (booked {booked})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    bench_codec(args.seconds)
    for durable in (False, True):
        for kind in ("tcp", "pty"):
            bench_cycles(kind, args.cycles, durable)


if __name__ == "__main__":
    main()
