"""The machine on a signing connector (Eichrecht): charging waits for the signed begin, the
booking is the signed energy's cost (not the amount confirmed at Stop), capped at the hold and
flagged above it; a refused begin releases the hold before energy flows; after a restart a
signing session is never resumed under a transaction the start-up ended."""

from __future__ import annotations

from dataclasses import replace

from doubles.builders import HOLD, OFFER, Driver, at, card, controller, intent, reading, station
from doubles.paths import SID

from kiosk.devices import IecState
from kiosk.session import events as ev
from kiosk.session.commands import (
    BeginSignedTransaction,
    DisableCharging,
    EnableCharging,
    EndSignedTransaction,
    SettleCard,
)
from kiosk.session.model import ConnectorConf, SignedOutcome
from kiosk.session.names import Phase
from kiosk.snapshot import ConfirmPrice, PayByCard, StopCharging


def signing_driver() -> Driver:
    st = station()
    return Driver(replace(st, connectors=(ConnectorConf("1", signing=True),)))


def to_starting(d: Driver) -> None:
    d.online()
    d(ev.ConnectorChosen(at(1), "1", SID, OFFER))
    d(intent(ConfirmPrice(SID), 2))
    d(intent(PayByCard(SID), 3))
    d(ev.PreauthDone(at(5), SID, card()))
    d(ev.MeterUpdate(at(6), "1", reading(1000, 6)))
    d(ev.ControllerUpdate(at(6), "1", controller(IecState.B, 6)))


def charging_then_stop(d: Driver, live_cost: int = 300) -> tuple:  # type: ignore[type-arg]
    to_starting(d)
    d(ev.SignedBegun(at(7), SID, True))
    d(ev.ControllerUpdate(at(8), "1", controller(IecState.C, 8, enabled=True)))
    d(ev.MeterUpdate(at(9), "1", reading(1500, 9), live_cost))
    d(intent(StopCharging(SID), 10))
    d(ev.ChargingSwitched(at(11), "1", SID, False, True))
    return d(ev.MeterUpdate(at(12), "1", reading(1500, 12), live_cost))


def test_charging_is_enabled_only_after_the_signed_begin() -> None:
    d = signing_driver()
    to_starting(d)
    assert BeginSignedTransaction(SID, "1") in d.commands
    assert not any(isinstance(c, EnableCharging) for c in d.commands)
    assert d(ev.SignedBegun(at(7), SID, True)) == (EnableCharging(SID, "1"),)


def test_a_refused_begin_stops_before_energy_flows_and_books_nothing() -> None:
    d = signing_driver()
    to_starting(d)
    assert d(ev.SignedBegun(at(7), SID, False, "meter busy")) == (DisableCharging(SID, "1"),)
    d(ev.ChargingSwitched(at(8), "1", SID, False, True))
    s = d.st.session(SID)
    assert s is not None and s.phase is Phase.SETTLING
    assert s.signed is not None and s.signed.flags == ("no_record",)
    settles = [c.final_minor for c in d.commands if isinstance(c, SettleCard)]
    assert settles == [0]  # the hold is released
    assert not any(isinstance(c, EnableCharging | EndSignedTransaction) for c in d.commands)


def test_the_booking_is_the_signed_energys_cost_not_the_confirmed_amount() -> None:
    d = signing_driver()
    assert charging_then_stop(d, live_cost=300) == (EndSignedTransaction(SID, "1"),)
    s = d.st.session(SID)
    assert s is not None and s.phase is Phase.STOPPING and s.agreed_minor == 300
    outcome = SignedOutcome(620, True, (), "signed", cost_minor=310)
    (settle,) = d(ev.SignedEnded(at(13), SID, outcome))
    assert isinstance(settle, SettleCard) and settle.final_minor == 310  # above the "about" 300
    s = d.st.session(SID)
    assert s is not None and s.energy_wh == 620 and s.cost_minor == 310


def test_a_signed_cost_above_the_hold_books_the_hold_and_is_flagged() -> None:
    d = signing_driver()
    charging_then_stop(d)
    outcome = SignedOutcome(99_000, True, (), "signed", cost_minor=HOLD + 700)
    (settle,) = d(ev.SignedEnded(at(13), SID, outcome))
    assert isinstance(settle, SettleCard) and settle.final_minor == HOLD
    s = d.st.session(SID)
    assert s is not None and s.signed is not None and "capped_at_hold" in s.signed.flags


def test_a_missing_record_is_booked_by_the_rule() -> None:
    d = signing_driver()
    charging_then_stop(d)
    outcome = SignedOutcome(0, False, ("no_record",), "end failed", cost_minor=0)
    (settle,) = d(ev.SignedEnded(at(13), SID, outcome))
    assert isinstance(settle, SettleCard) and settle.final_minor == 0


def test_the_end_is_asked_for_once_while_the_record_is_read() -> None:
    d = signing_driver()
    charging_then_stop(d)
    assert d(ev.Tick(at(60))) == ()  # the stopping deadline passed: no second end


def test_after_a_restart_a_signing_session_is_stopped_not_resumed() -> None:
    d = signing_driver()
    to_starting(d)
    d(ev.SignedBegun(at(7), SID, True))
    d(ev.MeterUpdate(at(9), "1", reading(1500, 9), 300))
    status = controller(IecState.C, 20, enabled=True)
    d(ev.Resumed(at(20), SID, status, reading(1500, 20), frozenset({231})))
    s = d.st.session(SID)
    assert s is not None and s.phase is Phase.STOPPING
