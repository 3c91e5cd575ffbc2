"""Scenario files: a timed list of simulator events that replays a day at a station.

A scenario is TOML: an optional `name`, then `[[step]]` tables, each with `do` (the action),
an optional `after` (seconds to wait before it) and the action's own keys:

    [[step]]
    do = "plug"            # plug | unplug | pause_car | card | tap | pay_link | fault |
    connector = "1"        # wait | wait_for | screenshot

Pure: this module parses and validates; the app replays (ui.scenario_player), where the
simulators and the screens are. Every error names the step, its action and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Each action's keys: name -> (type, required). `after` and `do` are common to all steps.
_TEXT, _SECONDS, _FLAG = "text", "seconds", "flag"
ACTIONS: Mapping[str, Mapping[str, tuple[str, bool]]] = {
    "plug": {"connector": (_TEXT, True)},
    "unplug": {"connector": (_TEXT, True)},
    "pause_car": {"connector": (_TEXT, True), "paused": (_FLAG, False)},
    "card": {"outcome": (_TEXT, True)},  # what the next card presented does
    # a button on the current screen, by object name; with `timeout`, waits until it is there
    "tap": {"button": (_TEXT, True), "timeout": (_SECONDS, False)},
    "pay_link": {},  # the phone pays the open QR link
    "fault": {"name": (_TEXT, True), "on": (_FLAG, False)},
    "wait": {"seconds": (_SECONDS, True)},
    "wait_for": {"page": (_TEXT, True), "timeout": (_SECONDS, False)},
    "screenshot": {"file": (_TEXT, True)},
}
DEFAULT_WAIT_FOR_S = 60.0


class ScenarioError(ValueError):
    """A scenario file that cannot be replayed; the message names the step and key."""


@dataclass(frozen=True, slots=True)
class Step:
    number: int  # 1-based, as an author counts the [[step]] tables
    action: str
    after_s: float = 0.0
    args: Mapping[str, Any] = field(default_factory=dict)

    def text(self, key: str) -> str:
        return str(self.args[key])

    def flag(self, key: str, default: bool = True) -> bool:
        return bool(self.args.get(key, default))

    def seconds(self, key: str, default: float) -> float:
        return float(self.args.get(key, default))

    def describe(self) -> str:
        keys = " ".join(f"{k}={v!r}" for k, v in self.args.items())
        return f"step {self.number} ({self.action}{' ' + keys if keys else ''})"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]

    def uses(self, action: str) -> list[Step]:
        return [s for s in self.steps if s.action == action]


def _value(where: str, key: str, kind: str, raw: object) -> object:
    if kind == _TEXT:
        if not isinstance(raw, str) or not raw.strip():
            raise ScenarioError(f"{where}: {key}: must be a non-empty string, not {raw!r}")
        return raw
    if kind == _FLAG:
        if not isinstance(raw, bool):
            raise ScenarioError(f"{where}: {key}: must be true or false, not {raw!r}")
        return raw
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 86_400:
        raise ScenarioError(f"{where}: {key}: must be seconds between 0 and 86400, not {raw!r}")
    return float(raw)


def _step(number: int, table: object) -> Step:
    where = f"step {number}"
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: must be a table ([[step]]), not {table!r}")
    action = table.get("do")
    if not isinstance(action, str) or action not in ACTIONS:
        known = ", ".join(ACTIONS)
        raise ScenarioError(f"{where}: do: {action!r} is not an action (known: {known})")
    where = f"step {number} (do = {action!r})"
    keys = ACTIONS[action]
    unknown = sorted(set(table) - set(keys) - {"do", "after"})
    if unknown:
        allowed = ", ".join(["after", *keys]) or "after"
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {allowed})")
    args: dict[str, Any] = {}
    for key, (kind, required) in keys.items():
        if key in table:
            args[key] = _value(where, key, kind, table[key])
        elif required:
            raise ScenarioError(f"{where}: {key}: missing")
    after = _value(where, "after", _SECONDS, table.get("after", 0))
    assert isinstance(after, float)
    return Step(number, action, after, args)


def parse_scenario(data: Mapping[str, object], default_name: str = "scenario") -> Scenario:
    unknown = sorted(set(data) - {"name", "description", "step"})
    if unknown:
        raise ScenarioError(f"unknown top-level key(s) {', '.join(unknown)} (name, step)")
    name = data.get("name", default_name)
    if not isinstance(name, str):
        raise ScenarioError(f"name: must be a string, not {name!r}")
    steps = data.get("step")
    if not isinstance(steps, list) or not steps:
        raise ScenarioError("step: a scenario needs at least one [[step]] table")
    return Scenario(name, tuple(_step(i, t) for i, t in enumerate(steps, start=1)))


def load_scenario(path: Path) -> Scenario:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot be read: {exc}") from exc
    try:
        return parse_scenario(data, default_name=path.stem)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc


def check_names(
    scenario: Scenario,
    *,
    connectors: list[str],
    card_outcomes: list[str],
    faults: list[str],
    pages: list[str],
) -> None:
    """Refuse names the station at hand does not have, before anything is replayed."""
    known = {
        "connector": connectors,
        "outcome": card_outcomes,
        "name": faults,
        "page": pages,
    }
    for step in scenario.steps:
        for key, names in known.items():
            if key in step.args and step.args[key] not in names:
                raise ScenarioError(
                    f"step {step.number} (do = {step.action!r}): {key}: {step.args[key]!r} is "
                    f"not one of this station's ({', '.join(names)})"
                )
