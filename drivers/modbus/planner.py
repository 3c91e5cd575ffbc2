"""Block reads: merge a map's registers into as few requests as the device allows.

Registers of one function code are merged while the block stays within the model's register
limit and the hole between neighbours is at most `max_hole` (holes are read and thrown away;
some devices refuse reads across undocumented addresses, so maps keep this small or 0). Models
that need even start addresses and counts (Eastron SDM) get them. If a block is refused with
an exception reply, `BlockReader` reads its registers one by one from then on, so one missing
register costs that register, not the snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from drivers.modbus.bus import DeviceLink
from drivers.modbus.errors import ModbusExceptionReply
from drivers.modbus.registermap import Limits, RegisterSpec

# Exception codes that mean "this block is not readable as one", so splitting may help.
_SPLITTABLE = frozenset({2, 3})
# After this many passes a refused block is tried whole again (the refusal may have been
# transient); until then it costs one request per register.
RETRY_BLOCK_AFTER_PASSES = 100


@dataclass(frozen=True, slots=True)
class Block:
    function: int
    address: int
    count: int
    specs: tuple[RegisterSpec, ...]

    def slice_for(self, spec: RegisterSpec, registers: list[int]) -> list[int]:
        offset = spec.address - self.address
        return registers[offset : offset + spec.count]


def _aligned(function: int, start: int, end: int, specs: list[RegisterSpec], even: bool) -> Block:
    if even:
        start -= start % 2
        end += (end - start) % 2
    return Block(function, start, end - start, tuple(specs))


def _aligned_span(start: int, end: int, even: bool) -> int:
    if even:
        start -= start % 2
        end += (end - start) % 2
    return end - start


def plan_blocks(specs: Iterable[RegisterSpec], limits: Limits) -> list[Block]:
    ordered = sorted(specs, key=lambda s: (s.function, s.address))
    blocks: list[Block] = []
    group: list[RegisterSpec] = []
    start = end = 0
    for spec in ordered:
        if group:
            same_fc = spec.function == group[0].function
            hole = spec.address - end
            new_end = max(end, spec.address + spec.count)
            span = _aligned_span(start, new_end, limits.even_alignment)
            if same_fc and hole <= limits.max_hole and span <= limits.max_registers:
                group.append(spec)
                end = new_end
                continue
            blocks.append(_aligned(group[0].function, start, end, group, limits.even_alignment))
        group, start, end = [spec], spec.address, spec.address + spec.count
    if group:
        blocks.append(_aligned(group[0].function, start, end, group, limits.even_alignment))
    return blocks


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Decoded values of one pass, with the monotonic times the first and last reply arrived."""

    values: dict[str, float | None]
    missing: frozenset[str]  # registers the device refused (exception reply), not "no value"
    first_reply: float
    last_reply: float
    retries: int


class BlockReader:
    """Reads a set of registers through one device link, block-wise with per-register fallback."""

    def __init__(
        self,
        link: DeviceLink,
        specs: Iterable[RegisterSpec],
        limits: Limits,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.link = link
        self.blocks = plan_blocks(specs, limits)
        self._split: dict[int, int] = {}  # refused block index -> passes left before a retry
        self._clock = clock
        self.requests_per_pass = len(self.blocks)

    def read(self) -> Snapshot:
        values: dict[str, float | None] = {}
        missing: set[str] = set()
        first: float | None = None
        last = 0.0
        retries = 0
        for index, passes_left in list(self._split.items()):
            if passes_left <= 0:
                del self._split[index]
            else:
                self._split[index] = passes_left - 1
        for index, block in enumerate(self.blocks):
            if index not in self._split:
                try:
                    registers = self.link.read_registers(block.function, block.address, block.count)
                except ModbusExceptionReply as exc:
                    if exc.code not in _SPLITTABLE or len(block.specs) == 1:
                        raise
                    self._split[index] = RETRY_BLOCK_AFTER_PASSES
                else:
                    retries += self.link.last_retries
                    last = self._clock()
                    first = last if first is None else first
                    for spec in block.specs:
                        values[spec.name] = spec.decode(block.slice_for(spec, registers))
                    continue
            for spec in block.specs:
                try:
                    regs = self.link.read_registers(spec.function, spec.address, spec.count)
                except ModbusExceptionReply as exc:
                    if exc.code not in _SPLITTABLE:
                        raise
                    missing.add(spec.name)
                    continue
                retries += self.link.last_retries
                last = self._clock()
                first = last if first is None else first
                values[spec.name] = spec.decode(regs)
        self.requests_per_pass = sum(
            len(b.specs) if i in self._split else 1 for i, b in enumerate(self.blocks)
        )
        return Snapshot(values, frozenset(missing), last if first is None else first, last, retries)
