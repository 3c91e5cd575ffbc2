"""The service menu's device list shows each signing meter: model, serial, firmware, whether
it signs and its public key (for the Bundesnetzagentur), or why it was not identified."""

from __future__ import annotations

from dataclasses import replace

from kiosk.snapshot import SigningMeterView
from ui import preview
from ui.i18n import load_languages
from ui.service import device_lines

KEY = "3059301306072A8648CE3D020106082A8648CE3D03010703420004ABCD"


def test_the_signing_meter_is_listed_with_its_key_and_status() -> None:
    snap = replace(
        preview.all_screens()["idle"],
        signing_meters=(
            SigningMeterView("1", "em580", "SIM0000001.2026", "1.2.3", KEY, signing=True),
            SigningMeterView("2", problem="no answer from unit 1"),
        ),
    )
    text = "\n".join(device_lines(snap, load_languages()["en"]))
    assert (
        f"Signing meter, connector 1: em580 serial SIM0000001.2026, firmware 1.2.3, signs; "
        f"public key {KEY}" in text
    )
    assert "Signing meter, connector 2: not identified (no answer from unit 1)" in text
    german = "\n".join(device_lines(snap, load_languages()["de"]))
    assert "Signierender Zähler, Ladepunkt 1" in german and "signiert;" in german


def test_a_meter_without_a_key_is_said_to_not_sign() -> None:
    snap = replace(
        preview.all_screens()["idle"],
        signing_meters=(SigningMeterView("1", "em580", "S1", None, None, signing=False),),
    )
    text = "\n".join(device_lines(snap, load_languages()["fr"]))
    assert "ne signe PAS" in text
