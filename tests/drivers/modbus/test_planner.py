"""Block planning: as few requests as the model allows, never more than its limit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.modbus.planner import plan_blocks
from drivers.modbus.registermap import Limits, RegisterSpec, load_map


def spans(blocks: list) -> list[tuple[int, int, int]]:
    return [(b.function, b.address, b.count) for b in blocks]


def test_sdm630_snapshot_is_one_76_register_block() -> None:
    regmap = load_map("sdm630")
    assert spans(plan_blocks(regmap.registers.values(), regmap.limits)) == [(4, 0, 76)]


def test_sdm72_avoids_undocumented_holes() -> None:
    regmap = load_map("sdm72d-m")
    assert spans(plan_blocks(regmap.registers.values(), regmap.limits)) == [(4, 52, 2), (4, 72, 4)]


def test_function_codes_never_share_a_block() -> None:
    regmap = load_map("bender-cc612")
    blocks = plan_blocks(regmap.registers.values(), regmap.limits)
    assert all(len({s.function for s in b.specs}) == 1 for b in blocks)
    assert spans(blocks) == [(3, 111, 2), (3, 122, 1), (3, 706, 1), (3, 1000, 1)]


def test_even_alignment_padding_stays_within_an_odd_limit() -> None:
    specs = [
        RegisterSpec("a", 0, 4, "float32"),
        RegisterSpec("b", 2, 4, "float32"),
        RegisterSpec("c", 4, 4, "uint16"),
    ]
    blocks = plan_blocks(specs, Limits(max_registers=5, even_alignment=True))
    assert [(b.address, b.count) for b in blocks] == [(0, 4), (4, 2)]


def test_even_alignment_pads_start_and_count() -> None:
    spec = RegisterSpec("x", 3, 4, "uint16")
    (block,) = plan_blocks([spec], Limits(max_registers=80, even_alignment=True))
    assert (block.address, block.count) == (2, 2)


_types = st.sampled_from(["uint16", "int32", "float32", "uint64"])


@st.composite
def register_sets(draw: st.DrawFn) -> tuple[list[RegisterSpec], Limits]:
    even = draw(st.booleans())
    limits = Limits(
        max_registers=draw(st.integers(4, 125)),
        even_alignment=even,
        max_hole=draw(st.integers(0, 30)),
    )
    specs = []
    used: set[int] = set()
    for i in range(draw(st.integers(1, 15))):
        kind = draw(_types)
        count = {"uint16": 1, "int32": 2, "float32": 2, "uint64": 4}[kind]
        address = draw(st.integers(0, 400))
        if even:
            address -= address % 2
        span = set(range(address, address + count))
        if span & used:
            continue
        used |= span
        specs.append(RegisterSpec(f"r{i}", address, draw(st.sampled_from([3, 4])), kind))
    return specs, limits


@settings(max_examples=200, deadline=None)
@given(register_sets())
def test_every_register_is_read_once_within_limits(case: tuple[list[RegisterSpec], Limits]) -> None:
    specs, limits = case
    blocks = plan_blocks(specs, limits)
    covered = [s.name for b in blocks for s in b.specs]
    assert sorted(covered) == sorted(s.name for s in specs)
    for block in blocks:
        assert block.count <= limits.max_registers
        if limits.even_alignment:
            assert block.address % 2 == 0 and block.count % 2 == 0
        for spec in block.specs:
            assert spec.function == block.function
            assert block.address <= spec.address
            assert spec.address + spec.count <= block.address + block.count
