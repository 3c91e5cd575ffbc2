"""Bounded fuzzing in CI: every target, a few dozen hostile inputs each (under a minute in all).

Each input must end in a result or one of the target's own errors (TariffError,
ConfigError, ScenarioError, ZvtDecodeError, DeviceError/MapError; for the backend a 4xx),
within 20 s: a time limit only for a hang, far above what any input takes. Long runs:
bench/fuzz.py (docs/fuzzing.md).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz.targets import TARGETS, bounded, runner

# Examples per target; EVK_FUZZ_SCALE scales them for a longer local run.
EXAMPLES = {
    "tariff": 60,
    "config": 60,
    "scenario": 60,
    "zvt": 100,
    "modbus": 60,
    "backend": 30,
    "ocmf": 150,
}
SCALE = float(os.environ.get("EVK_FUZZ_SCALE", "1"))
HANG_S = 20.0


@pytest.mark.parametrize("name", list(TARGETS))
def test_only_the_projects_own_errors_escape(name: str) -> None:
    target = TARGETS[name]
    with runner(target) as run:

        @settings(
            max_examples=max(1, int(EXAMPLES[name] * SCALE)),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=target.strategy)
        def one(case: Any) -> None:
            try:
                bounded(run, case, HANG_S)
            except target.allowed as exc:
                assert str(exc)  # an error that says what is wrong

        one()
