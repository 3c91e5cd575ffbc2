"""Every screen, fed a snapshot by hand: the right page, texts and amounts, and each tap
sends the right intent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from uirig import Kiosk, decode_qr

from kiosk.session.names import PaymentMethod
from kiosk.snapshot import (
    BackToStart,
    Cancel,
    ChooseConnector,
    ConfirmPrice,
    ConnectorStatus,
    PayByCard,
    PayByQr,
    Phase,
    StopCharging,
)
from ui import preview
from ui.qt import QLabel

pytestmark = pytest.mark.gui
S = preview.SESSION


def test_idle_shows_each_connector_with_type_power_status_and_price(kiosk: Kiosk) -> None:
    kiosk.show("idle")
    kiosk.set_language("en")
    assert kiosk.window.current_page == "idle"
    tile = kiosk.find("tile_1")
    texts = [w.text() for w in tile.findChildren(QLabel)]
    assert texts[:4] == ["Left", "Type 2 · up to 22 kW", "Available", "€0.59/kWh + €0.50/session"]
    # the coming change, in the screen's language and the station's time (UTC here)
    assert kiosk.find("tile_next_price").text() == "from Mon 16:00: €0.69/kWh"
    faulted = kiosk.find("tile_3")
    assert not faulted.isEnabled()
    assert "Out of order" in [w.text() for w in faulted.findChildren(QLabel)]
    # Why, in the screen's language (the device's own detail is for the service menu).
    assert "The charging point reports a fault" in [w.text() for w in faulted.findChildren(QLabel)]
    kiosk.set_language("de")
    assert "Typ 2 · bis 22 kW" in [w.text() for w in tile.findChildren(QLabel)]
    assert "Links" in [w.text() for w in tile.findChildren(QLabel)]
    # status is an icon too, never colour alone
    assert tile.status_icon.file_name == "available.svg"
    assert faulted.status_icon.file_name == "fault.svg"
    kiosk.tap("tile_1")
    assert kiosk.station.intents == [ChooseConnector("1")]


def test_tiles_say_connecting_until_their_devices_answer_in_each_language(kiosk: Kiosk) -> None:
    idle = preview.all_screens()["idle"]
    starting = tuple(
        replace(
            t,
            status=ConnectorStatus.UNAVAILABLE,
            reason_code="connecting",
            status_reason="Connecting to the charge controller",
        )
        for t in idle.connectors
    )
    kiosk.show(replace(idle, connectors=starting, seq=idle.seq + 1))
    assert kiosk.window.current_page == "idle"
    tile = kiosk.find("tile_1")
    assert not tile.isEnabled()
    assert tile.status_icon.file_name == "busy.svg"  # not the fault look
    for code, text in (("en", "Connecting…"), ("de", "Verbindung wird aufgebaut…"),
                       ("fr", "Connexion en cours…")):  # fmt: skip
        kiosk.set_language(code)
        labels = [w.text() for w in tile.findChildren(QLabel)]
        assert text in labels
        assert "Not available" not in labels and "Nicht verfügbar" not in labels


def test_tile_shows_the_operators_qr_code_and_a_payment_on_a_phone(
    kiosk: Kiosk, tmp_path: Path
) -> None:
    """OCPP C25: the CSMS's dynamic QR code on a free tile, as its URL is (no language added:
    the CSMS checks it); while a phone pays, the tile says so and cannot be chosen."""
    idle = preview.all_screens()["idle"]
    url = "https://pay.example/CS1/1/aB3dE5gH9kLm?v=v1"
    first, *rest = idle.connectors
    kiosk.show(replace(idle, connectors=(replace(first, web_pay_url=url), *rest), seq=100))
    kiosk.set_language("en")
    tile = kiosk.find("tile_1")
    assert tile.isEnabled()
    assert kiosk.find("tile_web_qr").data == url
    assert decode_qr(kiosk.find("tile_web_qr"), tmp_path) == url
    for code, text in (("en", "Or scan to pay on your phone"),
                       ("de", "Oder per Handy zahlen"),
                       ("fr", "Ou scannez pour payer sur votre téléphone")):  # fmt: skip
        kiosk.set_language(code)
        assert text in [w.text() for w in tile.findChildren(QLabel)]
    paying = replace(first, web_pay_url=None, web_paying_until=idle.published_at)
    kiosk.show(replace(idle, connectors=(paying, *rest), seq=101))
    assert not tile.isEnabled()
    assert not kiosk.find("tile_web_qr").isVisible()
    for code, text in (("en", "Payment in progress on your phone"),
                       ("de", "Zahlung auf Ihrem Handy läuft"),
                       ("fr", "Paiement en cours sur votre téléphone")):  # fmt: skip
        kiosk.set_language(code)
        assert text in [w.text() for w in tile.findChildren(QLabel)]
    # The held connector no longer looks free: its status line is the payment's.
    kiosk.set_language("en")
    assert "Available" not in [w.text() for w in tile.findChildren(QLabel)]


def test_before_the_first_snapshot_the_screen_says_it_is_starting(kiosk: Kiosk) -> None:
    assert kiosk.window.snapshot is None
    assert kiosk.window.current_page == "idle"
    assert "Wird gestartet …" in kiosk.texts()
    kiosk.tick(1)  # no snapshot yet: nothing to draw, nothing breaks
    assert kiosk.station.intents == []


def test_idle_in_german_is_the_station_default(kiosk: Kiosk) -> None:
    kiosk.show("idle")
    assert kiosk.window.lang_code == "de"  # the snapshot's first locale
    assert "Ladepunkt wählen" in kiosk.texts()
    assert "Außer Betrieb" in kiosk.texts()


def test_price_lists_components_in_afir_order_and_explains_the_hold(kiosk: Kiosk) -> None:
    kiosk.show("price")
    kiosk.set_language("en")
    assert kiosk.window.current_page == "price"
    text = kiosk.texts()
    order = [
        text.index("€0.59 per kWh"),
        text.index("€1.20 per hour of charging"),
        text.index("€0.50 per session"),
        text.index("€6.00 per hour parked"),
    ]
    assert order == sorted(order)  # energy, time, flat, parking: the AFIR order
    assert "All prices include 19 % VAT." in text
    assert "Before charging we reserve €50.00" in text
    assert "Back to start in 1:15" in text
    kiosk.tap("accept_price")
    kiosk.tap("cancel")
    assert kiosk.station.intents == [ConfirmPrice(S), Cancel(S)]


def test_price_lines_with_different_vat_rates_each_say_their_rate(kiosk: Kiosk) -> None:
    from decimal import Decimal

    snap = preview.all_screens()["price"]
    assert snap.focus is not None
    lines = (
        replace(snap.focus.price_lines[1], vat_percent=Decimal(19)),
        replace(snap.focus.price_lines[3], vat_percent=Decimal("7.7")),
    )
    focus = replace(snap.focus, price_lines=lines, price_now=None)
    kiosk.show(replace(snap, focus=focus))
    kiosk.set_language("en")
    text = kiosk.texts()
    assert "€0.59 per kWh (at all other times; incl. 19 % VAT)" in text
    assert "€6.00 per hour parked (only while your vehicle is connected and not charging; " in text
    assert "billed per started minute; incl. 7.7 % VAT)" in text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            (
                "€0.69 per kWh (Mon–Fri, 17:00–21:00)",
                "Now: €0.59 per kWh (at all other times)",
                "€6.00 per hour parked (only while your vehicle is connected and not charging; "
                "billed per started minute)",
                "from Mon 16:00: €0.69/kWh",
            ),
        ),
        (
            "de",
            (
                "0,69 € pro kWh (Mo–Fr, 17:00–21:00)",
                "Jetzt: 0,59 € pro kWh (zu allen anderen Zeiten)",
                "6,00 € pro Stunde Standzeit (nur angesteckt ohne Laden; je angefangene Minute)",
                "ab Mo 16:00 Uhr: 0,69 €/kWh",
            ),
        ),
        (
            "fr",
            (
                # French typography: no-break spaces before ":" and "€", a narrow one before ";".
                "0,69\u00a0€ par kWh (lun.–ven., 17:00–21:00)",
                "Maintenant\u00a0: 0,59\u00a0€ par kWh (à tout autre moment)",
                "6,00\u00a0€ par heure de stationnement (uniquement tant que le véhicule est "
                "branché sans charger\u202f; facturé par minute entamée)",
                "à partir de lun. 16:00\u00a0: 0,69\u00a0€/kWh",
            ),
        ),
    ],
)
def test_price_lines_are_worded_in_the_screen_language_and_mark_the_price_now(
    kiosk: Kiosk, lang: str, expected: tuple[str, str, str, str]
) -> None:
    peak, now, parking, coming = expected
    kiosk.show("price")
    kiosk.set_language(lang)
    lines = [kiosk.find(f"price_line_{i}").text() for i in range(5)]
    assert lines[0] == peak
    assert lines[1] == now
    assert parking in lines
    assert kiosk.find("price_next_change").text().startswith(coming)
    # the tariff's own words, in this language when it has them
    alt = {"en": "Parking fee applies", "de": "Die Standgebühr gilt", "fr": None}[lang]
    if alt is not None:
        assert alt in kiosk.find("price_next_change").text()
    assert "Energie" not in kiosk.texts() or lang == "de"


def test_price_in_german_uses_german_numbers(kiosk: Kiosk) -> None:
    kiosk.show("price")
    text = kiosk.texts()
    assert "0,59 € pro kWh" in text
    assert "Vor dem Laden reservieren wir 50,00 €" in text
    assert "inkl. 19 % MwSt." in text


def test_payment_choice_sends_card_or_qr(kiosk: Kiosk) -> None:
    kiosk.show("payment_choice")
    kiosk.set_language("en")
    assert "How would you like to pay?" in kiosk.texts()
    kiosk.tap("pay_card")
    kiosk.tap("pay_qr")
    assert kiosk.station.intents == [PayByCard(S), PayByQr(S)]


def test_payment_choice_disables_a_method_that_is_down_and_says_so(kiosk: Kiosk) -> None:
    snap = replace(preview.all_screens()["payment_choice"], terminal_ready=False)
    kiosk.show(snap)
    kiosk.set_language("en")
    assert not kiosk.find("pay_card").isEnabled()
    assert "Card payment is not available right now" in kiosk.texts()
    kiosk.tap("pay_qr")
    assert kiosk.station.intents == [PayByQr(S)]


def test_card_screen_shows_the_terminal_prompt_and_the_reservation(kiosk: Kiosk) -> None:
    kiosk.show("card_present")
    kiosk.set_language("en")
    text = kiosk.texts()
    assert "Present your card" in text
    assert "Karte bitte" in text  # the terminal's own 04 FF text, as it sent it
    assert "€50.00 will be reserved" in text
    assert "Waiting for your card: 1:35" in text
    kiosk.tap("cancel")
    assert kiosk.station.intents == [Cancel(S)]


def test_declined_card_says_nothing_was_taken_and_offers_a_retry(kiosk: Kiosk) -> None:
    kiosk.show("card_declined")
    kiosk.set_language("en")
    assert kiosk.window.current_page == "failure"
    assert kiosk.find("failure_reason").text() == "Your card was declined."
    assert kiosk.find("failure_money").text() == "No charge was made."
    kiosk.tap("retry")
    assert kiosk.station.intents == [BackToStart(S), ChooseConnector("1")]
    kiosk.station.intents.clear()
    kiosk.tap("back")
    assert kiosk.station.intents == [BackToStart(S)]


def test_qr_screen_encodes_the_payment_link_with_a_countdown(kiosk: Kiosk, tmp_path: Path) -> None:
    snap = preview.all_screens()["qr"]
    kiosk.show(snap)
    kiosk.set_language("en")
    link = snap.focus.payment_link if snap.focus else None
    assert link is not None
    # The pay page opens in the language the driver chose here.
    assert kiosk.find("payment_qr").data == link.url + "?lang=en"
    assert decode_qr(kiosk.find("payment_qr"), tmp_path) == link.url + "?lang=en"
    kiosk.set_language("fr")
    assert kiosk.find("payment_qr").data == link.url + "?lang=fr"
    kiosk.set_language("en")
    assert "Link valid for 4:47" in kiosk.texts()
    assert "Waiting for your payment…" in kiosk.texts()
    kiosk.tick(60)
    assert "Link valid for 3:47" in kiosk.texts()
    kiosk.tap("cancel")
    assert kiosk.station.intents == [Cancel(S)]


def test_qr_screen_without_a_link_yet_says_it_is_being_created(kiosk: Kiosk) -> None:
    snap = preview.all_screens()["qr"]
    assert snap.focus is not None
    kiosk.show(replace(snap, focus=replace(snap.focus, payment_link=None)))
    kiosk.set_language("en")
    assert "Creating your payment link…" in kiosk.texts()
    assert not kiosk.window.pages["qr"].qr.isVisible()


def test_plug_in_shows_the_approval_and_the_countdown(kiosk: Kiosk) -> None:
    kiosk.show("plug_in")
    kiosk.set_language("en")
    text = kiosk.texts()
    assert "Payment approved: €50.00 reserved." in text
    assert "Plug in within 2:45" in text


def test_plug_in_says_the_operator_is_confirming_the_payment_and_a_payment_through_it(
    kiosk: Kiosk,
) -> None:
    """AuthorizeDirectPayment: while the CSMS's answer is awaited the screen says so; a session
    the operator was paid for (C25) has no reservation of ours to announce."""
    snap = preview.all_screens()["plug_in"]
    assert snap.focus is not None
    checking = replace(snap.focus, operator_checking=True)
    kiosk.show(replace(snap, focus=checking, seq=snap.seq + 1))
    for code, text in (
        ("en", "Payment approved: €50.00 reserved. Waiting for the charging operator to "
               "confirm it…"),
        ("de", "reserviert. Warten auf die Bestätigung des Ladebetreibers …"),
        ("fr", "réservés. En attente de la confirmation de l'opérateur de recharge…"),
    ):  # fmt: skip
        kiosk.set_language(code)
        assert text in kiosk.texts(), kiosk.texts()
    paid = replace(snap.focus, method=PaymentMethod.CSMS)
    kiosk.show(replace(snap, focus=paid, seq=snap.seq + 2))
    kiosk.set_language("en")
    assert "Paid through the charging operator." in kiosk.texts()
    assert not any("reserved" in t for t in kiosk.texts())


def test_charging_shows_live_values_and_time_moves_every_second(kiosk: Kiosk) -> None:
    kiosk.show("charging")
    kiosk.set_language("en")
    assert kiosk.find("live_energy").text() == "12.34 kWh"
    assert kiosk.find("live_power").text() == "11.0 kW"
    assert kiosk.find("live_cost").text() == "€7.78"
    assert kiosk.find("live_time").text() == "41:07"
    kiosk.tick(1)
    assert kiosk.find("live_time").text() == "41:08"
    assert "Stops automatically before €50.00" in kiosk.texts()


def test_stop_asks_first_and_only_the_confirmation_sends_the_intent(kiosk: Kiosk) -> None:
    kiosk.show("charging")
    kiosk.set_language("en")
    kiosk.tap("stop")
    assert kiosk.station.intents == []
    page = kiosk.window.pages["charging"]
    assert page.confirm.isVisible()
    assert page.confirm_body.text() == "You will pay €7.78: the cost so far, nothing more."
    kiosk.tap("stop_no")
    assert not page.confirm.isVisible() and kiosk.station.intents == []
    kiosk.tap("stop")
    kiosk.tap("stop_yes")
    assert kiosk.station.intents == [StopCharging(S)]


def test_paused_by_vehicle_is_said_in_words(kiosk: Kiosk) -> None:
    kiosk.show("charging_paused")
    kiosk.set_language("en")
    text = kiosk.texts()
    assert "Paused by vehicle" in text
    assert "You pay only for energy delivered" in text


@pytest.mark.parametrize(
    ("screen", "expected"),
    [
        ("stopping", "Stopped by you"),
        ("stopped_meter_fault", "the energy meter failed. You pay only for energy measured."),
        ("settling", "Stopped at the reserved amount"),
    ],
)
def test_stopping_says_why_and_what_happens_next(kiosk: Kiosk, screen: str, expected: str) -> None:
    kiosk.show(screen)
    kiosk.set_language("en")
    assert kiosk.window.current_page == "stopping"
    assert expected in kiosk.texts()
    assert kiosk.find("final_cost").text() == "€7.78"


def test_receipt_shows_totals_vat_card_and_a_qr_to_the_digital_receipt(
    kiosk: Kiosk, tmp_path: Path
) -> None:
    snap = preview.all_screens()["receipt"]
    kiosk.show(snap)
    kiosk.set_language("en")
    rows = dict(kiosk.window.pages["receipt"].texts())
    assert rows["Energy"] == "18.42 kWh"
    assert rows["Duration"] == "1:02:03"
    assert rows["Energy cost"] == "€10.87" and rows["Session fee"] == "€0.50"
    assert rows["Net"] == "€9.55"
    assert rows["VAT 19 %"] == "€1.82"
    assert rows["Total"] == "€11.37"
    assert rows["Reservation released"] == "€38.63"
    assert rows["Paid with"] == "Girocard 672559******1234"
    assert rows["Receipt no."] == "1042"
    assert rows["Time"] == "14/03/2026 16:27 – 17:30"  # UTC here; the station zone in service
    assert "You were charged €11.37" in kiosk.texts()
    assert snap.focus is not None and snap.focus.receipt is not None
    url = snap.focus.receipt.receipt_url
    assert decode_qr(kiosk.find("receipt_qr"), tmp_path) == f"{url}?lang=en"
    kiosk.tap("done")
    assert kiosk.station.intents == [BackToStart(S)]


def test_receipt_of_a_session_paid_through_the_operator_tells_no_reservation(
    kiosk: Kiosk,
) -> None:
    """OCPP C25: the operator's PSP held the money; the receipt names the operator as the way
    it was paid and says nothing of a reservation of ours being released."""
    snap = preview.all_screens()["receipt"]
    assert snap.focus is not None and snap.focus.receipt is not None
    receipt = replace(snap.focus.receipt, method=PaymentMethod.CSMS, receipt_no=None)
    kiosk.show(replace(snap, focus=replace(snap.focus, receipt=receipt), seq=snap.seq + 1))
    for code, paid in (("en", "Paid through the operator"), ("de", "Über den Betreiber bezahlt"),
                       ("fr", "Payé via l'opérateur")):  # fmt: skip
        kiosk.set_language(code)
        rows = dict(kiosk.window.pages["receipt"].texts())
        assert paid in rows.values()
        assert "€38.63" not in rows.values() and "38,63 €" not in rows.values()


def test_receipt_in_german(kiosk: Kiosk) -> None:
    kiosk.show("receipt")
    rows = dict(kiosk.window.pages["receipt"].texts())
    assert rows["Gesamt"] == "11,37 €"
    assert rows["MwSt. 19 %"] == "1,82 €"
    assert rows["Zeitraum"] == "14.03.2026 16:27 – 17:30"


@pytest.mark.parametrize(
    ("screen", "reason", "money"),
    [
        ("qr_expired", "The payment link expired.", "No charge was made."),
        (
            "plug_timeout",
            "No vehicle was plugged in in time.",
            "No charge was made; the reserved amount is released.",
        ),
        (
            "connector_fault",
            "The connector reported a fault.",
            "No charge was made; the reserved amount is being released.",
        ),
    ],
)
def test_every_failure_says_what_happens_to_the_money(
    kiosk: Kiosk, screen: str, reason: str, money: str
) -> None:
    kiosk.show(screen)
    kiosk.set_language("en")
    assert kiosk.find("failure_reason").text() == reason
    assert kiosk.find("failure_money").text() == money


def test_a_stale_snapshot_never_replaces_a_newer_one(kiosk: Kiosk) -> None:
    screens = preview.all_screens()
    kiosk.show(replace(screens["charging"], seq=5))
    kiosk.show(replace(screens["price"], seq=4))
    assert kiosk.window.current_page == "charging"


def test_every_phase_has_a_page(kiosk: Kiosk) -> None:
    from ui.window import PHASE_PAGES

    assert set(PHASE_PAGES) == set(Phase)
