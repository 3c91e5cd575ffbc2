"""The simulators' charging model: power follows plug, enable and state of charge."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.modbus_sim.model import ChargingModel

from .conftest import FakeClock


def charging(clock: FakeClock) -> ChargingModel:
    model = ChargingModel(clock=clock, import_wh=1000.0)
    model.set_ev(soc=0.5, max_power_w=11_000, capacity_wh=50_000)
    model.plug_in()
    model.set_enabled(True)
    return model


def test_constant_power_phase_integrates_energy(fake_clock: FakeClock) -> None:
    model = charging(fake_clock)
    fake_clock.advance(360)  # a tenth of an hour at 11 kW
    values = model.values()
    assert values.power_total_w == 11_000
    assert values.import_wh == pytest.approx(2100.0)
    assert sum(values.power_w) == pytest.approx(11_000)
    assert values.current_a[0] == pytest.approx(11_000 / 3 / 230.1)
    assert model.iec_state() == ("C", "2")


def test_current_limit_caps_power(fake_clock: FakeClock) -> None:
    model = charging(fake_clock)
    model.write_current(6)
    assert model.values().power_total_w == pytest.approx(3 * 230.1 * 6, rel=0.01)


def test_taper_near_full_and_stop_when_full(fake_clock: FakeClock) -> None:
    model = charging(fake_clock)
    model.set_ev(soc=0.9)
    assert model.values().power_total_w == pytest.approx(5_500)
    fake_clock.advance(6 * 3600)
    assert model.values().power_total_w == 0
    assert model.soc == 1.0
    assert model.iec_state() == ("B", "2")


def test_idle_when_disabled_or_unplugged(fake_clock: FakeClock) -> None:
    model = charging(fake_clock)
    model.set_enabled(False)
    before = model.values().import_wh
    fake_clock.advance(600)
    assert model.values().import_wh == before
    assert model.iec_state() == ("B", "1")
    model.set_enabled(True)
    model.unplug()
    fake_clock.advance(600)
    assert model.values().import_wh == before
    assert model.iec_state() == ("A", "1")


def test_watchdog_falls_back_to_safe_current_without_writes(fake_clock: FakeClock) -> None:
    model = charging(fake_clock)
    model.watchdog_s = 60
    model.write_current(16)
    fake_clock.advance(59)
    assert not model.fallback_active
    fake_clock.advance(2)
    assert model.fallback_active
    assert model.effective_current_a() == model.fallback_current_a


_actions = st.lists(
    st.tuples(
        st.sampled_from(["plug", "unplug", "on", "off", "soc", "current", "wait"]),
        st.floats(0, 1),
    ),
    max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(_actions)
def test_import_counter_never_decreases(actions: list[tuple[str, float]]) -> None:
    clock = FakeClock()
    model = ChargingModel(clock=clock)
    last = model.values().import_wh
    for action, x in actions:
        if action == "plug":
            model.plug_in(x)
        elif action == "unplug":
            model.unplug()
        elif action in ("on", "off"):
            model.set_enabled(action == "on")
        elif action == "soc":
            model.set_ev(soc=x, max_power_w=x * 22_000)
        elif action == "current":
            model.write_current(6 + 26 * x)
        else:
            clock.advance(x * 3600)
        now = model.values().import_wh
        assert now >= last
        last = now
