"""Scenario files: the shipped samples parse, and every mistake names its step and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.scenario import ACTIONS, ScenarioError, check_names, load_scenario, parse_scenario

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples" / "scenarios"


def test_every_shipped_scenario_parses_and_names_only_known_things() -> None:
    files = sorted(SAMPLES.glob("*.toml"))
    assert len(files) >= 2
    for path in files:
        scenario = load_scenario(path)
        assert scenario.steps and scenario.name != path.stem  # each has a title
        check_names(
            scenario,
            connectors=["1", "2"],
            card_outcomes=["approve", "decline", "pin_required", "no_card"],
            faults=[
                f"{device} {cid}: {what}"
                for cid in ("1", "2")
                for device, what in (
                    ("meter", "silent"),
                    ("meter", "garbage"),
                    ("controller", "error F"),
                )
            ],
            pages=["idle", "price", "payment", "qr", "plug", "charging", "receipt", "failure"],
        )


def test_steps_keep_their_order_delays_and_arguments() -> None:
    scenario = parse_scenario(
        {
            "name": "demo",
            "step": [
                {"do": "plug", "connector": "1", "after": 2},
                {"do": "fault", "name": "meter 1: silent"},
                {"do": "fault", "name": "meter 1: silent", "on": False},
                {"do": "wait_for", "page": "idle"},
            ],
        }
    )
    first, on, off, wait = scenario.steps
    assert (first.number, first.action, first.after_s, first.text("connector")) == (
        1,
        "plug",
        2.0,
        "1",
    )
    assert on.flag("on") is True and off.flag("on") is False
    assert wait.seconds("timeout", 60.0) == 60.0
    assert [s.number for s in scenario.uses("fault")] == [2, 3]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"do": "plug"}], "step 1 (do = 'plug'): connector: missing"),
        ([{"do": "tap", "button": "ok"}, {"do": "jump"}], "step 2: do: 'jump' is not an action"),
        ([{"connector": "1"}], "step 1: do: None is not an action"),
        (
            [{"do": "plug", "connector": "1", "socket": 2}],
            "step 1 (do = 'plug'): unknown key(s) socket",
        ),
        ([{"do": "wait", "seconds": "5"}], "step 1 (do = 'wait'): seconds: must be seconds"),
        ([{"do": "wait", "seconds": -1}], "seconds: must be seconds between 0 and 86400"),
        ([{"do": "fault", "name": "x", "on": "yes"}], "step 1 (do = 'fault'): on: must be true"),
        ([{"do": "card", "outcome": ""}], "step 1 (do = 'card'): outcome: must be a non-empty"),
        ([{"do": "pay_link", "after": True}], "step 1 (do = 'pay_link'): after: must be seconds"),
        (["plug"], "step 1: must be a table"),
        ([], "at least one [[step]]"),
    ],
)
def test_mistakes_name_the_step_and_key(steps: list[object], message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario({"step": steps})
    assert message in str(caught.value)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[step]]\ndo = 'plug\n")
    with pytest.raises(ScenarioError, match=r"bad\.toml: not valid TOML"):
        load_scenario(bad)
    typo = tmp_path / "typo.toml"
    typo.write_text("stpe = []\n")
    with pytest.raises(ScenarioError, match=r"typo\.toml: unknown top-level key\(s\) stpe"):
        load_scenario(typo)
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_scenario(tmp_path / "missing.toml")


def test_names_the_station_lacks_are_refused_before_replay() -> None:
    scenario = parse_scenario(
        {"step": [{"do": "plug", "connector": "1"}, {"do": "plug", "connector": "7"}]}
    )
    with pytest.raises(ScenarioError, match=r"step 2 \(do = 'plug'\): connector: '7' is not one"):
        check_names(scenario, connectors=["1", "2"], card_outcomes=[], faults=[], pages=[])


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 100_000),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)
_keys = st.sampled_from(["do", "after", "connector", "button", "seconds", "on", "page", "x"])
_actions = st.sampled_from([*ACTIONS, "nope"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(_keys, _values, max_size=4), max_size=4), _actions)
def test_any_table_either_parses_or_raises_a_scenario_error(
    tables: list[dict[str, object]], action: str
) -> None:
    for table in tables:
        table.setdefault("do", action)
    try:
        scenario = parse_scenario({"step": tables})
    except ScenarioError as exc:
        assert str(exc)
    else:
        assert len(scenario.steps) == len(tables)
        for step in scenario.steps:
            assert step.action in ACTIONS and step.after_s >= 0
