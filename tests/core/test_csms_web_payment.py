"""OCPP 2.1 C25 in the pure machine and the CSMS feed: NotifyWebPaymentStarted blocks a local
start on its connector until its timeout; the CSMS's RequestStartTransaction (a DirectPayment
token, the CSMS's PSP holds the money) starts a session without a hold of the station's, capped
at the connector's hold amount, that ends with the cost reported and nothing booked here."""

from __future__ import annotations

from datetime import timedelta

from doubles import paths
from doubles.builders import HOLD, OFFER, Driver, at, controller, intent, reading
from doubles.csms_driver import FedDriver

from kiosk.devices import IecState
from kiosk.session import commands as cmd
from kiosk.session import events as ev
from kiosk.session.model import Policy
from kiosk.session.names import PaymentMethod, StopReason
from kiosk.snapshot import MoneyOutcome, Phase, StopCharging

TX = "TX1"


def _plugged(d: Driver, t: float = 1) -> None:
    d.online()
    d(ev.ControllerUpdate(at(t), "1", controller(IecState.B, t)))
    d(ev.MeterUpdate(at(t), "1", reading(1000, t)))


def _remote_start(d: Driver, t: float) -> tuple[cmd.Command, ...]:
    return d(ev.CsmsStartRequested(at(t), "1", TX, OFFER, "psp-77", 42))


def test_a_web_payment_blocks_a_local_start_until_its_timeout() -> None:
    d = FedDriver()
    _plugged(d)
    d(ev.WebPaymentStarted(at(2), "1", at(2) + timedelta(seconds=60)))
    assert d(ev.ConnectorChosen(at(3), "1", "LOCAL", OFFER)) == ()
    assert d.st.session("LOCAL") is None and d.st.web_paying("1", at(3))
    d(ev.Tick(at(62)))  # the timeout passed: the block is gone
    assert d.st.web_payments == {}
    d(ev.ConnectorChosen(at(63), "1", "LOCAL", OFFER))
    s = d.st.session("LOCAL")
    assert s is not None and s.phase is Phase.PRICE_SHOWN


def test_a_timeout_of_zero_lifts_the_block() -> None:
    d = FedDriver()
    _plugged(d)
    d(ev.WebPaymentStarted(at(2), "1", at(2) + timedelta(seconds=60)))
    d(ev.WebPaymentStarted(at(3), "1", at(3)))
    d(ev.ConnectorChosen(at(4), "1", "LOCAL", OFFER))
    assert d.st.session("LOCAL") is not None


def test_the_csms_start_charges_without_a_hold_and_is_reported_as_a_remote_start() -> None:
    d = FedDriver(Policy(csms_authorize=True))  # already paid at the CSMS: not asked again
    _plugged(d)
    d(ev.WebPaymentStarted(at(2), "1", at(2) + timedelta(seconds=60)))
    produced = _remote_start(d, 3)
    assert [type(c) for c in produced] == [cmd.BeginMetering, cmd.EnableCharging]
    s = d.st.session(TX)
    assert s is not None and s.phase is Phase.STARTING and d.st.focus == TX
    assert s.auth is not None and s.auth.method is PaymentMethod.CSMS
    assert s.auth.amount_minor == HOLD and s.auth.reference == "psp-77"
    assert d.st.web_payments == {}  # the web payment ended in this start
    (started,) = d.calls
    payload = started.payload
    assert payload["eventType"] == "Started" and payload["triggerReason"] == "RemoteStart"
    assert payload["idToken"] == {"idToken": "psp-77", "type": "DirectPayment"}
    assert payload["transactionInfo"]["remoteStartId"] == 42
    assert payload["transactionInfo"]["transactionId"] == TX


def test_a_csms_start_on_a_busy_connector_does_nothing() -> None:
    d = FedDriver()
    _plugged(d)
    d(ev.ConnectorChosen(at(2), "1", "LOCAL", OFFER))
    assert _remote_start(d, 3) == ()
    assert d.st.session(TX) is None and d.calls == []


def test_the_session_ends_with_its_cost_and_books_nothing_here() -> None:
    d = FedDriver()
    _plugged(d)
    _remote_start(d, 3)
    d(ev.ControllerUpdate(at(4), "1", controller(IecState.C, 4, enabled=True)))
    d(ev.MeterUpdate(at(5), "1", reading(1500, 5), 300))
    d(intent(StopCharging(TX), 6))
    produced = d(ev.ChargingSwitched(at(7), "1", TX, enabled=False, ok=True))
    produced += d(ev.ControllerUpdate(at(7), "1", controller(IecState.B, 7)))
    produced += d(ev.MeterUpdate(at(8), "1", reading(1500, 8), 300))
    assert not any(isinstance(c, cmd.SettleCard) for c in produced)  # no terminal, no capture
    (close,) = [c for c in produced if isinstance(c, cmd.CloseSession)]
    s = close.session
    assert s.phase is Phase.RECEIPT and s.settlement is not None
    assert s.settlement.final_minor == 300 and s.money is MoneyOutcome.CHARGE_PENDING
    assert [c.payload["eventType"] for c in d.calls if c.action == "TransactionEvent"][-1] == (
        "Ended"
    )
    ended = next(c for c in d.calls if c.kind == "ended").payload
    assert str(ended["costDetails"]["totalCost"]["total"]["inclTax"]) == "3.00"
    assert [c for c in d.calls if c.action == "NotifySettlement"] == []  # the CSMS settles


def test_the_csms_cost_limit_stops_the_session_below_it_and_only_ever_lowers_the_cap() -> None:
    d = FedDriver()
    _plugged(d)
    _remote_start(d, 3)
    d(ev.ControllerUpdate(at(4), "1", controller(IecState.C, 4, enabled=True)))
    assert d(ev.CsmsLimitSet(at(5), TX, HOLD + 1000)) == ()  # never above the hold amount
    s = d.st.session(TX)
    assert s is not None and s.auth is not None and s.auth.amount_minor == HOLD
    assert d(ev.CsmsLimitSet(at(5), TX, 400)) == ()
    d(ev.MeterUpdate(at(6), "1", reading(1200, 6), 250))  # below the cap (400 - 100)
    s = d.st.session(TX)
    assert s is not None and s.phase is Phase.CHARGING
    (disable,) = d(ev.MeterUpdate(at(7), "1", reading(1300, 7), 300))  # at the cap
    assert isinstance(disable, cmd.DisableCharging)
    s = d.st.session(TX)
    assert s is not None and s.stop_reason is StopReason.COST_CAP


def test_a_cost_limit_for_a_card_session_changes_nothing() -> None:
    d = FedDriver()
    paths.charging(d)
    before = d.st.session(paths.SID)
    assert d(ev.CsmsLimitSet(at(9), paths.SID, 100)) == ()
    assert d.st.session(paths.SID) == before
