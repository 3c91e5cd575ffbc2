"""Service menu behind long-press + PIN, the thread bridge, and the last-resort error page."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from uirig import PIN, Kiosk, RecordingStation

from kiosk.snapshot import Cancel, StopCharging
from ui import preview
from ui.bridge import SnapshotBridge
from ui.screens.session import ChargingScreen
from ui.service import core_checksum
from ui.settings import SettingsError, hash_pin, load_settings, parse_settings, verify_pin

pytestmark = pytest.mark.gui


def enter(kiosk: Kiosk, pin: str) -> None:
    for digit in pin:
        kiosk.tap(f"pin_{digit}")
    kiosk.tap("pin_ok")


def test_service_menu_needs_a_long_press_and_the_right_pin(kiosk: Kiosk) -> None:
    kiosk.show("charging")
    kiosk.set_language("en")
    menu = kiosk.window.service
    assert not menu.isVisible()
    kiosk.window.long_press.fire_for_test()  # what a 3 s press on the station name does
    assert menu.isVisible() and not menu.unlocked
    enter(kiosk, "1234")
    assert not menu.unlocked
    assert kiosk.find("pin_error").text() == "Wrong PIN"
    assert kiosk.find("pin_display").text() == ""
    enter(kiosk, PIN)
    assert menu.unlocked
    devices = menu.devices.toPlainText()
    assert "Card terminal ready" in devices
    assert "Left (1): Charging  12.34 kWh, 11.0 kW, measured 14/03/2026 17:30" in devices
    # The reason in words, and the device's own detail for the installer.
    assert "Out of order – The charging point reports a fault (error flags: rcd_trip)" in devices
    holds = menu.holds.toPlainText()
    assert preview.SESSION in holds and "€50.00" in holds and "charging" in holds
    assert f"Core checksum (SHA-256): {core_checksum()}" in menu.version.toPlainText()
    kiosk.set_language("de")  # states and device errors in the menu's language
    devices = menu.devices.toPlainText()
    assert "Links (1): Lädt" in devices and "charging" not in devices
    assert "Außer Betrieb – Der Ladepunkt meldet eine Störung" in devices
    assert "Ladepunkt 1, lädt, Karte" in menu.holds.toPlainText()
    assert "Not available in this configuration" in menu.journal.toPlainText()
    kiosk.tap("service_close_menu")
    assert not menu.isVisible()
    kiosk.window.long_press.fire_for_test()
    assert not menu.unlocked  # locked again
    assert kiosk.station.intents == []


def test_service_menu_never_shows_card_numbers(kiosk: Kiosk) -> None:
    kiosk.show("receipt")
    kiosk.window.long_press.fire_for_test()
    enter(kiosk, PIN)
    menu = kiosk.window.service
    everything = "\n".join(
        w.toPlainText() for w in (menu.devices, menu.holds, menu.journal, menu.logs, menu.version)
    )
    assert "672559" not in everything and "1234" not in everything


def test_service_terminal_functions_run_off_the_gui_thread(kiosk: Kiosk, qtbot: object) -> None:
    threads: list[str] = []

    class Port:
        def recent_sessions(self, limit: int) -> list[str]:
            return [f"S{i} closed 1.00 EUR" for i in range(3)]

        def terminal_status(self) -> str:
            threads.append(threading.current_thread().name)
            return "terminal 52500001 ready"

        def end_of_day(self) -> str:
            return "batch 12: 3 transactions, 34.10 EUR"

        def open_preauths(self) -> str:
            return "receipt 7: 50.00 EUR"

    menu = kiosk.window.service
    menu._port = Port()
    kiosk.show("idle")
    kiosk.window.long_press.fire_for_test()
    enter(kiosk, PIN)
    qtbot.waitUntil(lambda: "S2 closed" in menu.journal.toPlainText(), timeout=60_000)  # type: ignore[attr-defined]
    menu.status_enquiry.click()
    qtbot.waitUntil(lambda: "ready" in menu.terminal_out.toPlainText(), timeout=60_000)  # type: ignore[attr-defined]
    assert threads and threads[0] != threading.main_thread().name
    menu.end_of_day.click()
    qtbot.waitUntil(lambda: "batch 12" in menu.terminal_out.toPlainText(), timeout=60_000)  # type: ignore[attr-defined]


def test_pin_hash_and_settings_errors(tmp_path: Path) -> None:
    stored = hash_pin("2580", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$") and "2580" not in stored
    assert verify_pin("2580", stored) and not verify_pin("2581", stored)
    assert not verify_pin("2580", None)  # no PIN configured: the menu stays shut
    with pytest.raises(SettingsError, match="unknown key 'pin'"):
        parse_settings({"pin": "1234"})
    with pytest.raises(SettingsError, match="'dpi' must be between 50 and 600"):
        parse_settings({"dpi": 20})
    with pytest.raises(SettingsError, match="'kiosk' must be bool"):
        parse_settings({"kiosk": "yes"})
    with pytest.raises(SettingsError, match="service_pin_hash"):
        parse_settings({"service_pin_hash": "1234"})
    path = tmp_path / "ui.toml"
    path.write_text(f'kiosk = true\ndpi = 133\nservice_pin_hash = "{stored}"\n')
    settings = load_settings(path)
    assert settings.kiosk and settings.dpi == 133 and settings.service_pin_hash == stored
    path.write_text("kiosk = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(path)


def test_bridge_delivers_the_newest_snapshot_on_the_gui_thread(qtbot: object) -> None:
    station = RecordingStation()
    bridge = SnapshotBridge(station)
    got: list[tuple[int, str]] = []
    bridge.snapshot.connect(lambda s: got.append((s.seq, threading.current_thread().name)))
    bridge.attach()
    (listener,) = station.listeners
    base = preview.all_screens()["charging"]

    def publish() -> None:
        for seq in range(1, 201):
            listener(replace(base, seq=seq))  # type: ignore[operator]

    worker = threading.Thread(target=publish, name="machine")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(got) and got[-1][0] == 200, timeout=60_000)  # type: ignore[attr-defined]
    assert {name for _, name in got} == {threading.main_thread().name}
    assert [seq for seq, _ in got] == sorted(seq for seq, _ in got)
    assert len(got) <= 200 and bridge.delivered == len(got)
    bridge.send(Cancel("S1"))
    assert station.intents == [Cancel("S1")]
    bridge.close()


def test_a_screen_that_fails_shows_the_safe_page_and_settles_the_money(
    kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    kiosk.show("charging")
    kiosk.set_language("en")

    def broken(self: ChargingScreen, ctx: object) -> None:
        raise RuntimeError("label exploded")

    monkeypatch.setattr(ChargingScreen, "draw", broken)
    with caplog.at_level(logging.ERROR):
        kiosk.show(replace(preview.all_screens()["charging"], seq=2))
    assert kiosk.window.current_page == "error"
    assert "Any open payment is being settled" in kiosk.texts()
    assert kiosk.station.intents == [StopCharging(preview.SESSION)]
    assert "label exploded" in caplog.text
    kiosk.show(replace(preview.all_screens()["charging"], seq=3))
    assert kiosk.station.intents == [StopCharging(preview.SESSION)]  # asked once, not per frame


def test_the_error_hook_before_charging_cancels_the_payment(kiosk: Kiosk) -> None:
    from ui.app import install_error_handler

    kiosk.show("card_present")
    old = sys.excepthook
    try:
        install_error_handler(kiosk.window)
        try:
            raise ValueError("boom")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        sys.excepthook = old
    assert kiosk.window.current_page == "error"
    assert kiosk.station.intents == [Cancel(preview.SESSION)]


def test_qt_calls_keep_the_reference_counts_of_none_true_and_false() -> None:
    # PySide6 6.12.0 dropped a reference to None on every call of a void method (setText,
    # show, ...); on Python 3.11, where None is not immortal, a kiosk died with "none_dealloc"
    # after a few thousand screen updates. 6.11.3 is pinned for that reason; this catches a
    # binding upgrade that brings the leak back. Run in a child so a crash cannot take pytest.
    code = (
        "import sys\n"
        "from ui.qt import QApplication, QLabel, QPushButton, QWidget\n"
        "app = QApplication([])\n"
        "root = QWidget(); label = QLabel(root); button = QPushButton(root)\n"
        "before = [sys.getrefcount(x) for x in (None, True, False)]\n"
        "for _ in range(20_000):\n"
        "    label.setText('x'); label.show(); button.setEnabled(True); label.parent()\n"
        "    root.findChild(QLabel, 'absent')\n"
        "after = [sys.getrefcount(x) for x in (None, True, False)]\n"
        "print(*(a - b for a, b in zip(after, before)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-500:]
    drift = [int(x) for x in done.stdout.split()]
    # A leak shows as a loss of 20,000 or more; a few references either way are the interpreter.
    assert all(abs(d) < 100 for d in drift), drift
