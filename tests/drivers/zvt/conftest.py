"""A real simulated terminal (pty pair or TCP socket) and the real driver pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from zvt_testkit import make_terminal, start_sim

from drivers.zvt.terminal import ZvtTerminal
from drivers.zvt_sim import TerminalSimulator


@pytest.fixture(params=["pty", "tcp"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sim(kind: str, tmp_path: Path) -> Iterator[TerminalSimulator]:
    simulator = start_sim(kind, tmp_path / "pt-state.json")
    yield simulator
    simulator.stop()


@pytest.fixture
def terminal(sim: TerminalSimulator) -> Iterator[ZvtTerminal]:
    term = make_terminal(sim)
    yield term
    term.close()
