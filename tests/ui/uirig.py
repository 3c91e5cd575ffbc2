"""UI test rig: the real window with hand-fed snapshots, a hand-driven screen clock, and a
station that records every intent the screens send."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from kiosk.snapshot import Intent, StationSnapshot
from ui import preview
from ui.qt import QPushButton, QWidget
from ui.settings import hash_pin
from ui.window import KioskWindow

PIN = "4711"
PIN_HASH = hash_pin(PIN, iterations=1000)


@dataclass
class ScreenClock:
    now: datetime = preview.NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class RecordingStation:
    """Stands in for the runtime's two methods: keeps the listener and the intents."""

    intents: list[Intent] = field(default_factory=list)
    listeners: list[object] = field(default_factory=list)

    def subscribe(self, listener: object) -> None:
        self.listeners.append(listener)

    def send(self, intent: Intent) -> None:
        self.intents.append(intent)


@dataclass
class Kiosk:
    window: KioskWindow
    clock: ScreenClock
    station: RecordingStation

    def show(self, snapshot: StationSnapshot | str) -> KioskWindow:
        snap = preview.all_screens()[snapshot] if isinstance(snapshot, str) else snapshot
        self.window.show_snapshot(snap)
        return self.window

    def tap(self, name: str) -> None:
        widget = self.find(name)
        assert isinstance(widget, QPushButton), name
        assert widget.isVisible() and widget.isEnabled(), f"{name} is not tappable"
        widget.click()

    def find(self, name: str) -> QWidget:
        page = self.window.stack.currentWidget()
        for root in (self.window.timeout_warning, self.window.service, page, self.window):
            found = root.findChild(QWidget, name)
            if found is not None and (found.isVisible() or root is self.window):
                return found
        raise AssertionError(f"no widget {name!r} on page {self.window.current_page}")

    def texts(self) -> str:
        """Every visible label and button text on the current page (for `in` checks)."""
        from ui.qt import QLabel

        page = self.window.stack.currentWidget()
        parts = [w.text() for w in page.findChildren(QLabel) if w.isVisible()]
        parts += [w.text() for w in page.findChildren(QPushButton) if w.isVisible()]
        return "\n".join(parts)

    def tick(self, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        self.window.tick()

    def set_language(self, code: str) -> None:
        self.window.lang_buttons[code].click()


def decode_qr(widget: QWidget, tmp: object) -> str:
    """Decode a QR code on screen with zbar (a real, independent decoder)."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        message = "zbarimg is not installed (apt-get install zbar-tools)"
        if os.environ.get("EVKIOSK_REQUIRE_ALL") == "1":
            pytest.fail(message)
        pytest.skip(message)
    path = Path(str(tmp)) / "qr.png"
    assert widget.grab().save(str(path))
    done = subprocess.run(
        [zbarimg, "--raw", "-q", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()
