"""Operator tooling tests: real journal files, real simulators, a real backend on 127.0.0.1."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.stations import station_toml

# The core's machine-path builders (tests/core/doubles) make journals the way the runtime does.
CORE_TESTS = str(Path(__file__).resolve().parents[1] / "core")
if CORE_TESTS not in sys.path:
    sys.path.insert(0, CORE_TESTS)


@pytest.fixture
def station(tmp_path: Path) -> Path:
    return station_toml(tmp_path)


@pytest.fixture(autouse=True)
def _root_logger_restored() -> Iterator[None]:
    """CLI commands run in-process here set up logging as a process would; undo it after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
