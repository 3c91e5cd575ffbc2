"""The energy-counter guard: resets and jumps are events, never billed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.meter.plausibility import EnergyCounterGuard
from kiosk.devices import ImplausibleReading


def test_first_reading_sets_the_baseline() -> None:
    guard = EnergyCounterGuard(max_power_w=22_000)
    assert guard.check(1_000_000, 0.0) == 1_000_000


def test_reset_is_refused_and_recorded_then_rebased() -> None:
    guard = EnergyCounterGuard(max_power_w=22_000)
    guard.check(1_000_000, 0.0)
    with pytest.raises(ImplausibleReading, match="went back from 1000000 Wh to 0 Wh"):
        guard.check(0, 1.0)
    assert [(e.kind, e.previous_wh, e.new_wh) for e in guard.events] == [("reset", 1_000_000, 0)]
    assert guard.check(3, 2.0) == 3  # later readings compare with the new baseline


def test_jump_beyond_what_the_connection_can_carry() -> None:
    guard = EnergyCounterGuard(max_power_w=22_000, slack_wh=10)
    guard.check(1_000_000, 0.0)
    assert guard.check(1_000_000 + 22_000 // 60, 60.0) == 1_000_366  # 22 kW for a minute: fine
    with pytest.raises(ImplausibleReading, match="jumped by 5000 Wh"):
        guard.check(1_005_366, 61.0)
    assert guard.events[-1].kind == "jump"


def test_jitter_within_one_step_never_reports_a_lower_counter() -> None:
    guard = EnergyCounterGuard(max_power_w=22_000)
    guard.check(1_000_005, 0.0)
    assert guard.check(1_000_003, 1.0) == 1_000_005


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(0, 10**9),
    steps=st.lists(st.tuples(st.floats(0.1, 600), st.floats(0, 22_000)), max_size=30),
)
def test_physically_possible_sequences_are_never_refused(
    start: int, steps: list[tuple[float, float]]
) -> None:
    guard = EnergyCounterGuard(max_power_w=22_000)
    t, energy = 0.0, float(start)
    last = guard.check(start, t)
    for dt, power in steps:
        t += dt
        energy += power * dt / 3600
        reported = guard.check(round(energy), t)
        assert reported >= last
        last = reported


def test_frozen_counter_under_load() -> None:
    guard = EnergyCounterGuard(max_power_w=22_000, frozen_after_s=120)
    guard.check(1_000_000, 0.0, 11_000)
    guard.check(1_000_000, 100.0, 11_000)
    with pytest.raises(ImplausibleReading, match="stuck at 1000000 Wh for 130 s"):
        guard.check(1_000_000, 130.0, 11_000)
    assert guard.events[-1].kind == "frozen"
    guard.check(1_000_400, 140.0, 11_000)  # moving again: fine


def test_low_power_restarts_the_frozen_watch() -> None:
    guard = EnergyCounterGuard(max_power_w=22_000, frozen_after_s=120)
    guard.check(5, 0.0, 11_000)
    guard.check(5, 100.0, 100)  # idle: the counter may stand still
    guard.check(5, 200.0, 11_000)
    assert guard.events == []
