"""Block reads: merge a map's registers into as few requests as the device allows.

Registers of one function code are merged while the block stays within the model's register
limit and the hole between neighbours is at most `max_hole` (holes are read and thrown away;
some devices refuse reads across undocumented addresses, so maps keep this small or 0). Models
that need even start addresses and counts (Eastron SDM) get them. If a block is refused with
an exception reply, `BlockReader` falls back to hole-free blocks, then to single registers, so
one missing register costs that register, not the snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from drivers.modbus.bus import DeviceLink
from drivers.modbus.errors import ModbusExceptionReply
from drivers.modbus.registermap import Limits, RegisterSpec, apply_exponents

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


@dataclass
class _Pass:
    values: dict[str, float | None] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    first: float | None = None
    last: float = 0.0
    retries: int = 0
    requests: int = 0


class BlockReader:
    """Reads a set of registers through one device link, block-wise with fallback.

    A refused block is re-planned without holes (the device may refuse undocumented
    addresses); a refused hole-free block is read register by register; a refused single
    register is reported as missing. The finer plan is kept for `RETRY_BLOCK_AFTER_PASSES`
    passes, then the original block is tried again.
    """

    def __init__(
        self,
        link: DeviceLink,
        specs: Iterable[RegisterSpec],
        limits: Limits,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.link = link
        self.limits = limits
        specs = list(specs)
        self._scaled = [s for s in specs if s.exponent is not None]
        self.blocks = plan_blocks(specs, limits)
        self._finer: dict[int, tuple[int, list[Block]]] = {}  # index -> (passes left, plan)
        self._clock = clock
        self.requests_per_pass = len(self.blocks)

    def _refine(self, block: Block) -> list[Block]:
        gapless = plan_blocks(block.specs, replace(self.limits, max_hole=0))
        if len(gapless) > 1:
            return gapless
        return [b for spec in block.specs for b in plan_blocks([spec], self.limits)]

    def _read_blocks(self, blocks: list[Block], state: _Pass) -> list[Block]:
        """Read `blocks`, refining refused ones; returns the plan that was actually used."""
        used: list[Block] = []
        for block in blocks:
            state.requests += 1
            try:
                registers = self.link.read_registers(block.function, block.address, block.count)
            except ModbusExceptionReply as exc:
                if exc.code not in _SPLITTABLE:
                    raise
                if len(block.specs) == 1:
                    state.missing.add(block.specs[0].name)
                    used.append(block)
                else:
                    used.extend(self._read_blocks(self._refine(block), state))
                continue
            state.retries += self.link.last_retries
            state.last = self._clock()
            state.first = state.last if state.first is None else state.first
            for spec in block.specs:
                state.values[spec.name] = spec.decode(block.slice_for(spec, registers))
            used.append(block)
        return used

    def read(self) -> Snapshot:
        state = _Pass()
        for index, block in enumerate(self.blocks):
            passes_left, plan = self._finer.get(index, (0, [block]))
            if passes_left <= 0:
                plan = [block]
            used = self._read_blocks(plan, state)
            if used != [block]:
                keep = passes_left - 1 if plan != [block] else RETRY_BLOCK_AFTER_PASSES
                self._finer[index] = (keep, used)
            else:
                self._finer.pop(index, None)
        self.requests_per_pass = sum(len(p) for _, p in self._finer.values()) + sum(
            1 for i in range(len(self.blocks)) if i not in self._finer
        )
        first = state.last if state.first is None else state.first
        apply_exponents(state.values, self._scaled)
        return Snapshot(state.values, frozenset(state.missing), first, state.last, state.retries)
