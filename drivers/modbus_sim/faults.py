"""Fault injection for the simulated Modbus devices.

A fault is armed per device for `count` replies (None: until cleared). Wire faults (silence,
garbage, CRC) rewrite the outgoing frame; protocol faults (exception, slow, block refused)
act in the device's register handler; value faults (no value) change the register image;
a counter reset acts once on the model when injected.
"""

from __future__ import annotations

import enum
import random
import threading
from dataclasses import dataclass


class Fault(enum.Enum):
    SILENCE = "silence"  # no reply at all
    GARBAGE = "garbage"  # random bytes instead of the reply
    CRC = "crc"  # the reply with a broken CRC (RTU) or broken length field (TCP)
    EXCEPTION = "exception"  # a Modbus exception reply (4: server device failure)
    SLOW = "slow"  # the reply comes after delay_s
    BLOCK_REFUSED = "block_refused"  # reads of more than one value get exception 2
    HOLES_REFUSED = "holes_refused"  # reads spanning undocumented addresses get exception 2
    NO_VALUE = "no_value"  # every value reads as the "not available" marker (NaN for floats)
    FROZEN = "frozen"  # the meter's registers stop changing (a hung meter firmware)
    COUNTER_RESET = "counter_reset"  # the meter's import counter restarts at 0 (once)


WIRE_FAULTS = frozenset({Fault.SILENCE, Fault.GARBAGE, Fault.CRC})


@dataclass
class _Armed:
    remaining: int | None
    delay_s: float


class FaultInjector:
    def __init__(self, seed: int = 4) -> None:
        self._lock = threading.Lock()
        self._armed: dict[Fault, _Armed] = {}
        self._random = random.Random(seed)
        self.fired: dict[Fault, int] = {}

    def inject(self, fault: Fault, count: int | None = None, delay_s: float = 1.0) -> None:
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or None for until cleared)")
        with self._lock:
            self._armed[fault] = _Armed(count, delay_s)

    def clear(self, fault: Fault | None = None) -> None:
        with self._lock:
            if fault is None:
                self._armed.clear()
            else:
                self._armed.pop(fault, None)

    def active(self, fault: Fault) -> bool:
        with self._lock:
            return fault in self._armed

    def take(self, fault: Fault) -> _Armed | None:
        """Consume one firing of `fault` if armed."""
        with self._lock:
            armed = self._armed.get(fault)
            if armed is None:
                return None
            if armed.remaining is not None:
                armed.remaining -= 1
                if armed.remaining <= 0:
                    del self._armed[fault]
            self.fired[fault] = self.fired.get(fault, 0) + 1
            return armed

    def mangle(self, frame: bytes, rtu: bool) -> bytes:
        """Apply an armed wire fault to an outgoing frame."""
        if self.take(Fault.SILENCE):
            return b""
        if self.take(Fault.GARBAGE):
            return bytes(self._random.randrange(256) for _ in range(max(5, len(frame))))
        if self.take(Fault.CRC) and frame:
            if rtu:
                return frame[:-1] + bytes([frame[-1] ^ 0xA5])
            # Modbus TCP has no CRC: announce more bytes than follow, a broken frame all the same.
            return (
                frame[:4] + (int.from_bytes(frame[4:6], "big") + 7).to_bytes(2, "big") + frame[6:]
            )
        return frame
