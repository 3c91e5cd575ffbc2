"""doctor: the display and touch device nodes, judged for the kiosk's user.

The nodes are real character devices (ptys) linked into a stand-in /dev tree.
"""

from __future__ import annotations

import os
import pty
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.doctor import Outcome
from drivers.doctor.display import check_display
from drivers.doctor.ports import Identity

KIOSK = Identity("kiosk", 65534, frozenset({65534}))


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Path]:
    masters = []
    for node in ("dri/card0", "input/event0", "input/event1"):
        master, slave = pty.openpty()
        masters.append(master)
        target = tmp_path / node
        target.parent.mkdir(exist_ok=True)
        target.symlink_to(os.ttyname(slave))
        os.close(slave)
    yield tmp_path
    for master in masters:
        os.close(master)


def _chmod(dev: Path, node: str, mode: int) -> None:
    os.chmod((dev / node).resolve(), mode)


def test_headless_machine_only_warns(tmp_path: Path) -> None:
    checks = check_display(KIOSK, tmp_path)
    assert [(c.area, c.outcome) for c in checks] == [
        ("display", Outcome.WARN),
        ("touch", Outcome.WARN),
    ]


def test_display_and_touch_usable(dev: Path) -> None:
    for node in ("dri/card0", "input/event0", "input/event1"):
        _chmod(dev, node, 0o666)
    checks = check_display(KIOSK, dev)
    assert [c.outcome for c in checks] == [Outcome.PASS, Outcome.PASS]
    assert "2 of 2" in checks[1].detail


def test_user_not_allowed_on_display_or_touch(dev: Path) -> None:
    for node in ("dri/card0", "input/event0", "input/event1"):
        _chmod(dev, node, 0o660)
    display, touch = check_display(KIOSK, dev)
    assert display.outcome is Outcome.FAIL and "usermod -aG" in display.fix
    assert touch.outcome is Outcome.FAIL and "none of 2" in touch.detail
    _chmod(dev, "input/event1", 0o664)  # readable by others: touch works, display still not
    display, touch = check_display(KIOSK, dev)
    assert (display.outcome, touch.outcome) == (Outcome.FAIL, Outcome.PASS)
