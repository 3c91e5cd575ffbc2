"""Operator tooling tests: real journal files, real simulators, a real backend on 127.0.0.1."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The core's machine-path builders (tests/core/doubles) make journals the way the runtime does.
CORE_TESTS = str(Path(__file__).resolve().parents[1] / "core")
if CORE_TESTS not in sys.path:
    sys.path.insert(0, CORE_TESTS)

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"


def station_toml(
    tmp: Path,
    *,
    terminal: str = 'hardware = "simulated"',
    meter: str = 'hardware = "simulated"',
    controller: str = 'hardware = "simulated"',
    backend: str | None = None,
    journal: str = "journal.db",
) -> Path:
    """A one-connector station config in `tmp`, with the given device tables' bodies."""
    (tmp / "tariff.json").write_text((SAMPLES / "tariff.json").read_text(encoding="utf-8"))
    text = f"""
[station]
name = "Test"
timezone = "Europe/Berlin"
journal = "{journal}"

[terminal]
{terminal}

[meters.m1]
{meter}

[controllers.c1]
{controller}

[[connector]]
id = "1"
type = "Type 2"
max_kw = 11
tariff = "tariff.json"
meter = "m1"
controller = "c1"
"""
    if backend is not None:
        text += f"\n[backend]\n{backend}\n"
    path = tmp / "station.toml"
    path.write_text(text, encoding="utf-8")
    return path


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
