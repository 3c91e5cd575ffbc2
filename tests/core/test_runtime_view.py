"""From machine state to the snapshot a screen renders: tiles, countdowns, receipts."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from doubles import paths
from doubles.builders import OFFER, Driver, at, card, controller, station

from kiosk.devices import IecState
from kiosk.runtime.view import build_snapshot, session_view
from kiosk.session import events as ev
from kiosk.snapshot import ConnectorStatus, CountdownKind, MoneyOutcome, Phase, StopCharging
from kiosk.tariff import PriceLine, PriceNow


def snapshot(d: Driver):  # type: ignore[no-untyped-def]
    return build_snapshot(
        seq=1,
        now=at(100),
        st=d.st,
        name="S",
        locales=("en",),
        offers={"1": OFFER, "2": OFFER},
        notice=None,
        terminal_ready=True,
        qr_available=True,
    )


def tile(d: Driver, cid: str = "1") -> ConnectorStatus:
    return next(t for t in snapshot(d).connectors if t.connector_id == cid).status


def test_tile_status_follows_the_connector_and_its_session() -> None:
    d = Driver(station("1", "2"))
    assert tile(d) is ConnectorStatus.UNAVAILABLE  # controller never answered
    d.online("1")
    d.online("2")
    assert tile(d) is ConnectorStatus.AVAILABLE
    d(ev.ControllerUpdate(at(1), "2", controller(IecState.B, 1)))
    assert tile(d, "2") is ConnectorStatus.OCCUPIED
    d(ev.ControllerUpdate(at(1), "2", controller(IecState.F, 1)))
    assert tile(d, "2") is ConnectorStatus.FAULTED
    paths.paying_card(d)
    assert tile(d) is ConnectorStatus.PREPARING
    d2 = Driver()
    paths.charging(d2)
    assert tile(d2) is ConnectorStatus.CHARGING
    d2(ev.ControllerUpdate(at(9), "1", controller(IecState.B, 9, True)))
    assert tile(d2) is ConnectorStatus.SUSPENDED_EV
    d2(ev.EmergencyStop(at(10), "button"))
    only = snapshot(d2).connectors[0]
    assert only.status is ConnectorStatus.UNAVAILABLE and only.status_reason == "Emergency stop"
    assert only.reason_code == "emergency_stop"  # the screen words it in its language


def test_a_tile_carries_the_configured_label_per_language_and_a_reason_code() -> None:
    d = Driver(station("1"))
    conf = replace(d.st.connectors[0], labels=(("en", "Left"), ("fr", "Gauche")))
    d.st = replace(d.st, connectors=(conf,))
    (starting,) = snapshot(d).connectors
    assert starting.labels == (("en", "Left"), ("fr", "Gauche"))
    assert starting.reason_code == "connecting"  # never answered yet
    d(ev.ControllerFailed(at(1), "1", "timeout"))
    (offline,) = snapshot(d).connectors
    assert offline.status is ConnectorStatus.UNAVAILABLE
    assert offline.reason_code == "controller_offline"
    assert not offline.selectable
    d.online("1")
    d(ev.ControllerUpdate(at(1), "1", controller(IecState.F, 1)))
    assert snapshot(d).connectors[0].reason_code == "connector_fault"


def test_plug_in_countdown_is_a_deadline_and_says_if_it_can_be_extended() -> None:
    d = Driver()
    paths.waiting_for_plug(d)
    focus = snapshot(d).focus
    assert focus is not None and focus.phase is Phase.WAITING_FOR_PLUG
    (countdown,) = focus.countdowns
    assert countdown.kind is CountdownKind.PLUG_IN and countdown.extendable
    assert countdown.ends_at == at(5) + d.st.policy.plug_timeout


def test_receipt_vat_lines_add_up_to_the_total() -> None:
    d = Driver()
    paths.receipt(d)
    s = d.st.sessions[0]
    d.st = replace(d.st, sessions=(replace(s, offer=replace(s.offer, vat_percent=Decimal(19))),))
    focus = snapshot(d).focus
    assert focus is not None and focus.receipt is not None
    r = focus.receipt
    # 3,00 was shown when the driver confirmed Stop; the reading after the switch-off (3,06)
    # only ends the session.
    assert r.total.minor == 300 and r.money is MoneyOutcome.CHARGED
    (vat,) = r.vat_lines
    assert vat.rate_percent == Decimal(19)
    assert r.net.minor + vat.vat.minor == r.total.minor
    assert vat.vat.minor == 48  # 300 gross at 19 %: 252 net + 48 VAT
    assert r.energy_wh == 500 and r.meter_start_wh == 1000 and r.meter_end_wh == 1500
    assert r.masked_pan == "541333******1234" and r.receipt_no == 231


def test_failure_says_what_happened_to_the_money() -> None:
    d = Driver()
    paths.waiting_for_plug(d)
    d(ev.Tick(at(5 + 181)))
    d(ev.SettleDone(at(190), paths.SID, card(amount=0)))
    focus = snapshot(d).focus
    assert focus is not None and focus.failure is not None
    assert focus.failure.money is MoneyOutcome.HOLD_RELEASED
    assert "released" in focus.failure.message


def test_the_receipt_number_is_the_card_payments_not_the_bookings() -> None:
    # A fresh terminal numbers the pre-authorisation 1 and the booking 2: the driver's first
    # receipt is number 1.
    d = Driver()
    paths.paying_card(d)
    d(ev.PreauthDone(at(5), paths.SID, card(receipt_no=1)))
    d(ev.MeterUpdate(at(6), "1", paths.reading(1000, 6), None))
    d(ev.ControllerUpdate(at(6), "1", controller(IecState.B, 6)))
    d(ev.ControllerUpdate(at(7), "1", controller(IecState.C, 7, enabled=True)))
    d(ev.MeterUpdate(at(8), "1", paths.reading(1500, 8), 300))
    d(paths.intent(StopCharging(paths.SID), 9))
    d(ev.ChargingSwitched(at(10), "1", paths.SID, enabled=False, ok=True))
    d(ev.MeterUpdate(at(11), "1", paths.reading(1510, 11), 306))
    d(ev.SettleDone(at(12), paths.SID, card(amount=306, receipt_no=2)))
    focus = snapshot(d).focus
    assert focus is not None and focus.receipt is not None
    assert focus.receipt.receipt_no == 1


def test_the_price_screen_shows_the_frozen_offer_not_a_tariff_set_since() -> None:
    d = Driver(station("1"))
    d.online("1")
    paths.price_shown(d)
    (s,) = d.st.sessions
    frozen = PriceLine("energy", Decimal("0.50"), "EUR")
    s = replace(s, offer=replace(s.offer, price_lines=(frozen,)))
    own = PriceNow(at(100), (frozen,), at(200))
    other = PriceNow(at(100), (PriceLine("energy", Decimal("0.476"), "EUR"),), at(200))
    assert session_view(s, d.st.policy, price_now=own).price_now == own
    # The connector's tariff changed after the choice: its lines are not the offer's.
    assert session_view(s, d.st.policy, price_now=other).price_now is None
