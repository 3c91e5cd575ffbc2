"""Shared test setup: headless Qt, and real external tools that must exist in CI."""

from __future__ import annotations

import os
import shutil

import pytest

# Must be set before any QApplication exists; pytest-qt creates it lazily.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# In CI every real peer (chromium, PostgreSQL, mbpoll, zbar) must be present: a missing one
# fails the run instead of silently skipping the tests that need it.
REQUIRE_ALL = os.environ.get("EVKIOSK_REQUIRE_ALL") == "1"


def require_executable(name: str, *candidates: str, package: str | None = None) -> str:
    """Return the path of an external tool, or skip (fail in CI) with how to install it:
    ``package`` is its Debian package (scripts/system-packages.txt) when not named ``name``."""
    for candidate in (name, *candidates):
        found = shutil.which(candidate)
        if found:
            return found
    message = f"{name} is not installed (sudo apt-get install {package or name})"
    if REQUIRE_ALL:
        pytest.fail(message)
    pytest.skip(message)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long files (marked slow) first: with whole files per worker (--dist loadfile), a
    long file started last would run alone on one core while the others are idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable
