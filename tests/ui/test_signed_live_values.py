"""On a signing meter (Eichrecht) the charging screen calls its live values informative, in
every language, and the Stop confirmation's amount is "about": the signed reading bills."""

from __future__ import annotations

from dataclasses import replace

import pytest
from uirig import Kiosk

from kiosk.snapshot import StationSnapshot
from ui import preview

pytestmark = pytest.mark.gui


def signing(snap: StationSnapshot) -> StationSnapshot:
    focus = snap.focus
    assert focus is not None and focus.live is not None
    return replace(snap, focus=replace(focus, live=replace(focus.live, informative=True)))


@pytest.mark.parametrize(
    ("language", "label", "about"),
    [
        ("en", "Informative values", "You will pay about €7.78"),
        ("de", "Informative Werte", "Sie zahlen etwa 7,78"),
        ("fr", "Valeurs informatives", "Vous paierez environ 7,78"),
    ],
)
def test_live_values_of_a_signing_meter_are_informative(
    kiosk: Kiosk, language: str, label: str, about: str
) -> None:
    kiosk.show(signing(preview.all_screens()["charging"]))
    kiosk.set_language(language)
    note = kiosk.find("live_informative")
    assert note.isVisible() and note.text().startswith(label)  # type: ignore[attr-defined]
    page = kiosk.window.pages["charging"]
    kiosk.tap("stop")
    assert page.confirm_body.text().startswith(about)


def test_a_plain_meter_shows_no_informative_note(kiosk: Kiosk) -> None:
    kiosk.show("charging")
    kiosk.set_language("en")
    assert not kiosk.find("live_informative").isVisible()
    kiosk.tap("stop")
    assert "about" not in kiosk.window.pages["charging"].confirm_body.text()
