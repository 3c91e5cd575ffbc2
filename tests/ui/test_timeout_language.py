"""Idle timeouts with a warning the driver can extend, and languages as data."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from uirig import Kiosk

from kiosk.snapshot import CountdownKind, ExtendTimeout, Phase
from ui import preview
from ui.i18n import I18N_DIR, LanguageFileError, load_languages
from ui.window import KioskWindow

pytestmark = pytest.mark.gui
S = preview.SESSION


def test_the_warning_shows_before_time_runs_out_and_more_time_extends(kiosk: Kiosk) -> None:
    kiosk.show("price")  # 75 s left
    kiosk.set_language("en")
    warning = kiosk.window.timeout_warning
    assert not warning.isVisible()
    kiosk.tick(44)  # 31 s left
    assert not warning.isVisible()
    kiosk.tick(2)  # 29 s left
    assert warning.isVisible()
    assert warning.title.text() == "Do you need more time?"
    assert warning.remaining.text() == "0:29"
    kiosk.tap("more_time")
    assert kiosk.station.intents == [ExtendTimeout(S)]
    assert not warning.isVisible()
    kiosk.tick(1)  # until the runtime's new deadline arrives, the same warning stays away
    assert not warning.isVisible()
    snap = preview.all_screens()["price"]
    assert snap.focus is not None
    later = preview.countdown(CountdownKind.PRICE_CONFIRM, 122)
    kiosk.show(replace(snap, seq=2, focus=replace(snap.focus, countdowns=later)))
    assert not warning.isVisible()
    assert "Back to start in 1:15" in kiosk.texts()  # 122 s from the start, 47 s later


def test_a_countdown_that_cannot_be_extended_never_offers_more_time(kiosk: Kiosk) -> None:
    kiosk.show("qr")  # the payment link's expiry is the backend's, not extendable
    kiosk.tick(280)
    assert not kiosk.window.timeout_warning.isVisible()
    assert kiosk.station.intents == []


def test_time_out_back_to_idle_resets_language_and_text_size(kiosk: Kiosk) -> None:
    kiosk.show("price")
    kiosk.set_language("fr")
    kiosk.window.large_button.click()
    assert kiosk.window.large_text
    assert "Accepter le prix" in kiosk.texts()
    kiosk.show(replace(preview.all_screens()["idle"], seq=3))  # the runtime timed out
    assert kiosk.window.current_page == "idle"
    assert kiosk.window.lang_code == "de" and not kiosk.window.large_text
    assert "Ladepunkt wählen" in kiosk.texts()


def test_language_switch_mid_flow_keeps_the_page_and_changes_every_text(kiosk: Kiosk) -> None:
    kiosk.show("charging")
    assert "Laden beenden" in kiosk.texts() and "7,78 €" in kiosk.texts()
    kiosk.set_language("en")
    assert kiosk.window.current_page == "charging"
    assert "Stop charging" in kiosk.texts() and "€7.78" in kiosk.texts()
    kiosk.set_language("fr")
    assert "Arrêter la charge" in kiosk.texts() and "7,78\u00a0€" in kiosk.texts()
    assert kiosk.station.intents == []  # switching language is not a session intent


def test_english_and_german_have_every_text_and_the_same_placeholders() -> None:
    raw = {p.stem: json.loads(p.read_text()) for p in I18N_DIR.glob("*.json")}
    assert {"en", "de", "fr"} <= set(raw)
    keys = set(raw["en"]["strings"])
    for code, data in raw.items():
        assert set(data["strings"]) == keys, code
        for key in keys:
            english, other = raw["en"]["strings"][key], data["strings"][key]
            assert _fields(english) == _fields(other), (code, key)


def _fields(template: str) -> set[str]:
    import string

    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_a_new_language_is_a_data_file_and_nothing_else(tmp_path: Path, qtbot: object) -> None:
    for p in I18N_DIR.glob("*.json"):
        (tmp_path / p.name).write_text(p.read_text())
    nl = json.loads((I18N_DIR / "en.json").read_text())
    nl["meta"].update(
        code="nl",
        name="Nederlands",
        decimal=",",
        group=".",
        money_pattern="{symbol} {sign}{amount}",
        date="%d-%m-%Y",
    )
    nl["strings"] = {"charging.stop": "Laden stoppen", "charging.cost": "Kosten tot nu toe"}
    (tmp_path / "nl.json").write_text(json.dumps(nl))
    languages = load_languages(tmp_path)
    window = KioskWindow(languages, lambda _: None, clock=lambda: preview.NOW)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.resize(1280, 800)
    window.show()
    window.show_snapshot(preview.all_screens()["charging"])
    assert "nl" in window.lang_buttons and window.lang_buttons["nl"].text() == "Nederlands"
    window.lang_buttons["nl"].click()
    page = window.pages["charging"]
    assert page.stop.text() == "Laden stoppen"
    assert page.values["cost"][0].text() == "Kosten tot nu toe"
    assert page.values["cost"][1].text() == "€ 7,78"
    assert page.values["energy"][0].text() == "Energy"  # missing texts fall back to English


def test_a_broken_language_file_names_the_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "en.json").write_text((I18N_DIR / "en.json").read_text())
    broken = json.loads((I18N_DIR / "de.json").read_text())
    del broken["meta"]["decimal"]
    (tmp_path / "de.json").write_text(json.dumps(broken))
    with pytest.raises(LanguageFileError, match=r"de\.json: meta\.decimal is missing"):
        load_languages(tmp_path)
    (tmp_path / "de.json").write_text("{not json")
    with pytest.raises(LanguageFileError, match=r"de\.json: not valid JSON"):
        load_languages(tmp_path)
    broken = json.loads((I18N_DIR / "de.json").read_text())
    broken["strings"]["charging.cap"] = "Stoppt vor {betrag}"
    (tmp_path / "de.json").write_text(json.dumps(broken))
    with pytest.raises(LanguageFileError, match=r"strings\.charging\.cap must use .*amount"):
        load_languages(tmp_path)


def test_money_and_numbers_per_locale() -> None:
    from decimal import Decimal

    from kiosk.snapshot import Amount

    langs = load_languages()
    assert langs["en"].money(Amount(123456, "EUR")) == "€1,234.56"
    assert langs["de"].money(Amount(123456, "EUR")) == "1.234,56 €"
    assert langs["fr"].money(Amount(123456, "EUR")) == "1\u202f234,56\u00a0€"
    assert langs["de"].money(Amount(500, "JPY")) == "500 JPY"  # no minor unit
    assert langs["en"].money(Amount(-5, "EUR")) == "-€0.05"
    assert langs["de"].number(Decimal("0.125"), 2) == "0,12"  # half-even, as the core rounds
    assert langs["en"].duration(3723) == "1:02:03" and langs["en"].duration(59) == "0:59"


def test_phase_vocabulary_has_a_status_text_in_every_language() -> None:
    from kiosk.snapshot import ConnectorStatus, FailureReason, MoneyOutcome, StopReason

    for lang in load_languages().values():
        for status in ConnectorStatus:
            assert lang.text(f"status.{status.value}")
        for reason in FailureReason:
            assert lang.text(f"failure.{reason.value}")
        for outcome in MoneyOutcome:
            assert lang.text(f"money.{outcome.value}", amount="x")
        for stop in StopReason:
            assert lang.text(f"stop_reason.{stop.value}")
    assert Phase.IDLE  # the phases themselves map to pages (test_screens)
