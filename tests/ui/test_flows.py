"""Driver flows through the real widgets, the real core runtime and the real simulators
(ZVT over TCP, Modbus TCP meter and controller), assembled by the app's composition root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flowrig import Flow, start_flow
from uirig import PIN

from kiosk.snapshot import MoneyOutcome, Phase, StopReason
from ui.qt import QPushButton

pytestmark = pytest.mark.gui


@pytest.fixture
def make_flow(tmp_path: Path, qtbot: object) -> Iterator[object]:
    flows: list[Flow] = []

    def make(**kw: object) -> Flow:
        flow = start_flow(tmp_path, qtbot, **kw)  # type: ignore[arg-type]
        flows.append(flow)
        return flow

    yield make
    for flow in flows:
        flow.bridge.close()  # type: ignore[attr-defined]
        assert flow.asm is not None
        flow.asm.stop()


def pay_by_card(flow: Flow) -> None:
    flow.tap("tile_1")
    assert flow.window.current_page == "price"
    flow.tap("accept_price")
    assert flow.window.current_page == "payment"
    flow.tap("pay_card")
    flow.advance(1)


def plug_and_charge(flow: Flow, seconds: int) -> None:
    flow.panel.plug_buttons["1"].click()  # type: ignore[attr-defined]
    flow.advance(3)
    assert flow.window.current_page == "charging", flow.snap.focus
    flow.advance(seconds, step=5)


def test_card_happy_path_and_stop_by_driver(make_flow) -> None:  # type: ignore[no-untyped-def]
    flow: Flow = make_flow()
    assert flow.window.current_page == "idle"
    assert "Frei" in flow.texts() and "Typ 2 · bis 11 kW" in flow.texts()
    flow.tap("tile_1")
    assert "0,50 € pro kWh" in flow.texts()  # worded from the numbers in German
    assert "Alle Preise inkl. 19 % MwSt." in flow.texts()
    assert "Vor dem Laden reservieren wir 50,00 €" in flow.texts()
    flow.tap("accept_price")
    flow.tap("pay_card")
    flow.advance(1)
    assert flow.window.current_page == "plug"
    assert "Zahlung genehmigt: 50,00 € reserviert." in flow.texts()
    plug_and_charge(flow, 120)
    live = flow.snap.focus.live if flow.snap.focus else None
    assert live is not None and live.energy_wh > 0 and live.cost.minor > 0
    lang = flow.window.lang
    assert flow.find("live_energy").text() == lang.energy_kwh(live.energy_wh)
    assert flow.find("live_cost").text() == lang.money(live.cost)
    flow.tap("stop")
    assert flow.window.current_page == "charging"  # nothing happens before the confirmation
    flow.tap("stop_yes")
    flow.advance(3)
    assert flow.window.current_page == "receipt"
    receipt = flow.snap.focus.receipt if flow.snap.focus else None
    assert receipt is not None and receipt.money is MoneyOutcome.CHARGED
    rows = dict(flow.window.pages["receipt"].texts())
    assert rows["Gesamt"] == lang.money(receipt.total)
    assert rows["Energie"] == lang.energy_kwh(receipt.energy_wh)
    assert rows["Bezahlt mit"].endswith(receipt.masked_pan or "?")
    assert "******" in rows["Bezahlt mit"]  # masked, never the full number
    assert flow.find("receipt_stop_reason").text() == "Von Ihnen beendet"
    assert flow.asm is not None and flow.asm.simulator is not None
    ledger = flow.asm.simulator.terminal.ledger()
    assert receipt.total.minor in [b.get("amount") for b in ledger["booked"]] or ledger["booked"], (
        ledger
    )
    flow.tap("done")
    assert flow.window.current_page == "idle"


def test_declined_card_then_retry(make_flow) -> None:  # type: ignore[no-untyped-def]
    flow: Flow = make_flow()
    flow.panel.card_buttons["decline"].click()  # type: ignore[attr-defined]
    pay_by_card(flow)
    assert flow.window.current_page == "failure"
    assert flow.find("failure_reason").text() == "Ihre Karte wurde abgelehnt."
    assert flow.find("failure_money").text() == "Es wurde nichts berechnet."
    flow.tap("retry")
    assert flow.window.current_page == "price"
    flow.tap("accept_price")
    flow.tap("pay_card")
    flow.advance(1)
    assert flow.window.current_page == "plug"


def test_plug_in_timeout_warns_extends_and_releases_the_hold(make_flow) -> None:  # type: ignore[no-untyped-def]
    flow: Flow = make_flow(plug_in_s=60)
    flow.set_language("en")
    pay_by_card(flow)
    assert flow.window.current_page == "plug"
    assert "Plug in within 1:00" in flow.texts() or "Plug in within 0:59" in flow.texts()
    flow.advance(31, step=1)
    assert flow.window.timeout_warning.isVisible()
    flow.tap("more_time")
    assert not flow.window.timeout_warning.isVisible()
    assert flow.snap.focus is not None and flow.snap.focus.phase is Phase.WAITING_FOR_PLUG
    flow.advance(200, step=10)
    assert flow.window.current_page == "failure"
    assert flow.find("failure_reason").text() == "No vehicle was plugged in in time."
    assert "the reserved amount is" in flow.find("failure_money").text()
    assert flow.asm is not None and flow.asm.simulator is not None
    assert flow.asm.simulator.terminal.ledger()["open"] == {}


def test_cost_cap_stops_before_the_hold(make_flow) -> None:  # type: ignore[no-untyped-def]
    flow: Flow = make_flow(price="20.00", hold_minor=1000, preauth="10.00")
    pay_by_card(flow)
    assert "10,00 € reserviert" in flow.texts()
    plug_and_charge(flow, 10)
    for _ in range(60):
        if flow.window.current_page != "charging":
            break
        flow.advance(10, step=5)
    flow.advance(5)
    assert flow.window.current_page == "receipt", flow.snap.focus
    receipt = flow.snap.focus.receipt if flow.snap.focus else None
    assert receipt is not None and receipt.stop_reason is StopReason.COST_CAP
    assert receipt.total.minor <= 1000
    assert flow.find("receipt_stop_reason").text() == "Beim reservierten Betrag beendet"


def test_meter_fault_mid_session_stops_and_says_so(make_flow) -> None:  # type: ignore[no-untyped-def]
    flow: Flow = make_flow()
    pay_by_card(flow)
    plug_and_charge(flow, 30)
    flow.panel.fault_buttons["meter 1: silent"].click()  # type: ignore[attr-defined]
    for _ in range(12):
        if flow.window.current_page not in ("charging",):
            break
        flow.advance(10, step=10)
    flow.advance(5)
    focus = flow.snap.focus
    assert focus is not None and focus.stop_reason is StopReason.METER_FAULT, focus
    assert flow.window.current_page in ("stopping", "receipt")
    assert "Der Stromzähler ist ausgefallen" in flow.texts()


def test_a_paused_vehicle_is_shown_and_charging_goes_on(make_flow) -> None:  # type: ignore[no-untyped-def]
    flow: Flow = make_flow()
    pay_by_card(flow)
    plug_and_charge(flow, 20)
    assert "Lädt" in flow.texts()
    flow.panel.pause_buttons["1"].click()  # type: ignore[attr-defined]
    flow.advance(10, step=5)
    assert flow.window.current_page == "charging"
    assert "Pausiert vom Fahrzeug" in flow.texts()
    assert "Sie zahlen nur die gelieferte Energie." in flow.texts()
    flow.panel.pause_buttons["1"].click()  # type: ignore[attr-defined]
    flow.advance(10, step=5)
    assert "Pausiert vom Fahrzeug" not in flow.texts() and "Lädt" in flow.texts()


def test_language_switch_mid_flow_and_idle_timeout(make_flow) -> None:  # type: ignore[no-untyped-def]
    flow: Flow = make_flow(price_confirm_s=40)
    flow.tap("tile_1")
    flow.set_language("en")
    assert "€0.50 per kWh" in flow.texts()
    assert "Back to start in 0:40" in flow.texts() or "Back to start in 0:39" in flow.texts()
    flow.advance(41, step=1)
    assert flow.window.current_page == "idle"
    assert flow.window.lang_code == "de"  # the next driver starts in the station's language
    assert "Ladepunkt wählen" in flow.texts()


def test_price_screen_warns_before_going_back_and_more_time_keeps_it(make_flow) -> None:  # type: ignore[no-untyped-def]
    flow: Flow = make_flow(price_confirm_s=60)
    flow.set_language("en")
    flow.tap("tile_1")
    assert flow.window.current_page == "price"
    flow.advance(31, step=1)
    assert flow.window.timeout_warning.isVisible()
    flow.tap("more_time")
    assert not flow.window.timeout_warning.isVisible()
    flow.advance(40, step=1)  # past the first deadline: the driver asked for more time
    assert flow.window.current_page == "price"
    assert flow.snap.focus is not None and flow.snap.focus.phase is Phase.PRICE_SHOWN
    flow.advance(30, step=1)
    assert flow.window.current_page == "idle"


def test_service_menu_with_the_real_station(make_flow, qtbot) -> None:  # type: ignore[no-untyped-def]
    flow: Flow = make_flow()
    flow.panel.card_buttons["decline"].click()  # type: ignore[attr-defined]
    pay_by_card(flow)
    flow.set_language("en")
    flow.window.long_press.fire_for_test()
    for digit in "0000":
        flow.find(f"pin_{digit}").click()
    flow.find("pin_ok").click()
    assert flow.find("pin_error").text() == "Wrong PIN"
    for digit in PIN:
        flow.find(f"pin_{digit}").click()
    flow.find("pin_ok").click()
    menu = flow.window.service
    assert menu.unlocked
    assert "Links (1): Finishing" in menu.devices.toPlainText()
    qtbot.waitUntil(lambda: "failed" in menu.journal.toPlainText(), timeout=10_000)
    menu.status_enquiry.click()
    qtbot.waitUntil(lambda: "ready=True" in menu.terminal_out.toPlainText(), timeout=20_000)
    menu.terminal_holds.click()
    qtbot.waitUntil(lambda: menu.terminal_out.toPlainText() == "[]", timeout=20_000)
    flow.panel.hide()  # type: ignore[attr-defined]
    flow.find("service_simulator").click()  # simulated hardware: the panel from the menu
    assert flow.panel.isVisible()  # type: ignore[attr-defined]


def unlock_service(flow: Flow) -> None:
    flow.window.long_press.fire_for_test()
    for digit in PIN:
        flow.find(f"pin_{digit}").click()
    flow.find("pin_ok").click()
    assert flow.window.service.unlocked


def test_service_end_of_day_is_journaled_and_never_runs_over_an_open_hold(make_flow, qtbot) -> None:  # type: ignore[no-untyped-def]
    flow: Flow = make_flow(backend=True)
    flow.set_language("en")
    pay_by_card(flow)  # approved: the hold is open while the car is awaited
    assert flow.window.current_page == "plug"
    unlock_service(flow)
    menu = flow.window.service
    menu.end_of_day.click()
    qtbot.waitUntil(lambda: "not run" in menu.terminal_out.toPlainText(), timeout=20_000)
    assert "1 card hold(s) still open" in menu.terminal_out.toPlainText()
    assert flow.asm is not None
    assert flow.asm.journal.query("SELECT 1 FROM end_of_day") == []  # the batch was left alone
    menu.close_menu()
    flow.tap("cancel")  # no car: the driver gives up, the hold is released
    flow.advance(5)
    unlock_service(flow)
    menu.end_of_day.click()
    qtbot.waitUntil(lambda: "end of day done" in menu.terminal_out.toPlainText(), timeout=20_000)
    ((outcome,),) = flow.asm.journal.query("SELECT outcome FROM end_of_day")
    assert outcome == "approved"
    menu.refresh()
    devices = menu.devices.toPlainText()
    assert "Reports waiting:" in devices and "Backend" in devices


def test_service_card_refund_over_the_terminal_is_journaled_and_queued(make_flow, qtbot) -> None:  # type: ignore[no-untyped-def]
    flow: Flow = make_flow()
    flow.set_language("en")
    pay_by_card(flow)
    plug_and_charge(flow, 60)
    flow.tap("stop")
    flow.tap("stop_yes")
    flow.advance(3)
    receipt = flow.snap.focus.receipt if flow.snap.focus else None
    assert receipt is not None and receipt.money is MoneyOutcome.CHARGED
    booked = receipt.total.minor
    flow.tap("done")
    assert flow.asm is not None
    ((session_id,),) = flow.asm.journal.query("SELECT session_id FROM sessions")
    unlock_service(flow)
    menu = flow.window.service
    assert menu.refund_button.text() in ("Refund to card", "Gutschrift auf Karte")
    menu.refund_session.setText(session_id)
    menu.refund_amount.setText("99999")  # more than was booked: refused before any command
    menu.refund_button.click()
    qtbot.waitUntil(lambda: "refused: amount" in menu.terminal_out.toPlainText(), timeout=20_000)
    menu.refund_amount.setText("0.01")
    menu.refund_button.click()
    qtbot.waitUntil(lambda: "refund approved" in menu.terminal_out.toPlainText(), timeout=30_000)
    assert "0.01 EUR" in menu.terminal_out.toPlainText()
    journal = flow.asm.journal
    assert journal.query("SELECT kind, result FROM commands WHERE kind = 'RefundCard'") == [
        ("RefundCard", "approved")
    ]
    assert journal.query("SELECT amount_minor FROM card_results WHERE kind = 'refund'") == [(1,)]
    assert len(journal.query("SELECT 1 FROM outbox WHERE kind = 'card_refund'")) == 1
    assert flow.asm.simulator is not None
    refunds = flow.asm.simulator.terminal.ledger()["refunds"]
    assert [r["amount_minor"] for r in refunds] == [1] and booked > 1


def pay_by_qr(flow: Flow) -> None:
    flow.tap("tile_1")
    flow.tap("accept_price")
    assert flow.find("pay_qr").isEnabled()
    flow.tap("pay_qr")
    flow.advance(1)
    assert flow.window.current_page == "qr"


def test_qr_paid_on_the_backends_pay_page(make_flow, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from uirig import decode_qr

    # The embedded backend keeps real time: the station's clock starts now too.
    flow: Flow = make_flow(backend=True, start=datetime.now(UTC))
    pay_by_qr(flow)
    link = flow.snap.focus.payment_link if flow.snap.focus else None
    assert link is not None and "/pay/" in link.url
    assert decode_qr(flow.find("payment_qr"), tmp_path) == link.url + "?lang=de"
    assert "Warten auf Ihre Zahlung …" in flow.texts()
    pay = flow.panel.findChild(QPushButton, "sim_pay_link")  # type: ignore[attr-defined]
    pay.click()
    assert flow.panel.result.text().startswith("paid link")  # type: ignore[attr-defined]
    flow.advance(2)
    assert flow.window.current_page == "plug", flow.snap.focus
    plug_and_charge(flow, 30)
    flow.tap("stop")
    flow.tap("stop_yes")
    flow.advance(3)
    assert flow.window.current_page == "receipt"
    rows = dict(flow.window.pages["receipt"].texts())
    assert rows["Bezahlt mit"] == "QR-Zahlung"


def test_qr_link_expires_and_nothing_is_taken(make_flow) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    flow: Flow = make_flow(backend=True, start=datetime.now(UTC))
    pay_by_qr(flow)
    flow.set_language("en")
    for _ in range(20):
        if flow.window.current_page != "qr":
            break
        flow.advance(60, step=60)
    assert flow.window.current_page == "failure", flow.snap.focus
    assert flow.find("failure_reason").text() == "The payment link expired."
    assert flow.find("failure_money").text() == "No charge was made."
