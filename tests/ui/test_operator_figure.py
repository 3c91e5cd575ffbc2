"""OCPP 2.0.1 central cost: the CSMS's running total and text on the charging screen, labelled
as the operator's figure in every language, beside the station's own cost the driver pays."""

from __future__ import annotations

from dataclasses import replace

import pytest
from uirig import Kiosk

from kiosk.snapshot import Amount, OperatorFigure, StationSnapshot
from ui import preview

pytestmark = pytest.mark.gui


def with_operator(snap: StationSnapshot, figure: OperatorFigure) -> StationSnapshot:
    focus = snap.focus
    assert focus is not None
    return replace(snap, focus=replace(focus, operator=figure))


@pytest.mark.parametrize(
    ("language", "figure", "text"),
    [
        ("en", "The operator's own figure so far: €4.56", "From the operator: 0.39/kWh"),
        ("de", "Eigene Angabe des Betreibers bisher: 4,56", "Vom Betreiber: 0.39/kWh"),
        ("fr", "Montant indiqué par l'exploitant jusqu'ici\u00a0: 4,56", "De l'exploitant"),
    ],
)
def test_the_operators_figure_and_text_are_shown_as_theirs(
    kiosk: Kiosk, language: str, figure: str, text: str
) -> None:
    shown = OperatorFigure(total=Amount(456, "EUR"), text="0.39/kWh")
    kiosk.show(with_operator(preview.all_screens()["charging"], shown))
    kiosk.set_language(language)
    note = kiosk.find("operator_figure")
    lines = note.text().split("\n")  # type: ignore[attr-defined]
    assert note.isVisible() and lines[0].startswith(figure) and lines[1].startswith(text)
    own = kiosk.find("live_cost").text()  # type: ignore[attr-defined]
    assert "4,56" not in own and "4.56" not in own  # the station's cost stays the one to pay


def test_without_a_csms_figure_nothing_is_shown(kiosk: Kiosk) -> None:
    kiosk.show("charging")
    kiosk.set_language("en")
    assert not kiosk.find("operator_figure").isVisible()
