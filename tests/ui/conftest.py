"""Fixtures for the UI tests; the rig itself is in uirig.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from uirig import PIN_HASH, Kiosk, RecordingStation, ScreenClock

from ui.i18n import load_languages
from ui.settings import UiSettings
from ui.window import KioskWindow


@pytest.fixture
def kiosk(qtbot: object) -> Iterator[Kiosk]:
    clock = ScreenClock()
    station = RecordingStation()
    window = KioskWindow(
        load_languages(),
        station.send,
        settings=UiSettings(service_pin_hash=PIN_HASH, dpi=96),
        clock=clock,
        dpi=96,
    )
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.resize(800, 480)
    window.show()
    yield Kiosk(window, clock, station)
