"""PaymentCtrlr.AuthorizeDirectPayment (OCPP 2.1 C18/C19) in the pure machine and the CSMS
feed: an approved payment waits for the CSMS's Authorize answer with charging off; Accepted
starts the transaction, anything else releases the hold and is settled Canceled without a
transaction."""

from __future__ import annotations

from doubles import paths
from doubles.builders import Driver, at, card, controller, intent, reading
from doubles.csms_driver import FedDriver
from doubles.paths import SID

from kiosk.devices import IecState
from kiosk.runtime.view import session_view
from kiosk.session import commands as cmd
from kiosk.session import events as ev
from kiosk.session.model import Policy
from kiosk.snapshot import Cancel, FailureReason, MoneyOutcome, Phase


def _approved_and_plugged(d: Driver) -> tuple[cmd.Command, ...]:
    paths.paying_card_plugged(d)
    return d(ev.PreauthDone(at(5), SID, card()))


def test_an_approved_payment_waits_for_the_csms_with_charging_off_and_no_transaction() -> None:
    d = FedDriver(Policy(csms_authorize=True))
    (ask,) = _approved_and_plugged(d)
    assert isinstance(ask, cmd.AuthorizeAtCsms) and ask.auth.receipt_no == 231
    assert d(ev.MeterUpdate(at(6), "1", reading(1000, 6))) == ()  # plugged: still nothing
    s = d.st.session(SID)
    assert s is not None and s.phase is Phase.WAITING_FOR_PLUG and s.csms_auth == "Pending"
    assert d.calls == []  # no TransactionEvent before the CSMS accepted


def test_accepted_starts_charging_and_the_transaction() -> None:
    d = FedDriver(Policy(csms_authorize=True))
    _approved_and_plugged(d)
    produced = d(ev.CsmsAuthorized(at(6), SID, "Accepted"))
    assert [type(c) for c in produced] == [cmd.BeginMetering, cmd.EnableCharging]
    (started,) = d.calls
    assert started.action == "TransactionEvent" and started.payload["eventType"] == "Started"
    assert started.payload["idToken"]["type"] == "DirectPayment"


def test_a_refusal_releases_the_hold_and_is_canceled_without_a_transaction_c19() -> None:
    d = FedDriver(Policy(csms_authorize=True))
    _approved_and_plugged(d)
    (release,) = d(ev.CsmsAuthorized(at(6), SID, "Invalid"))
    assert isinstance(release, cmd.SettleCard) and release.final_minor == 0
    (close,) = d(ev.SettleDone(at(7), SID, card(amount=0)))
    assert isinstance(close, cmd.CloseSession)
    s = close.session
    assert s.phase is Phase.FAILED and s.failure is FailureReason.OPERATOR_REFUSED
    assert s.money is MoneyOutcome.HOLD_RELEASED and s.csms_auth == "Invalid"
    (settled,) = d.calls  # no TransactionEvent at all
    assert settled.action == "NotifySettlement"
    assert settled.payload["status"] == "Canceled" and settled.payload["settlementAmount"] == 0
    assert "transactionId" not in settled.payload and "Invalid" in settled.payload["statusInfo"]


def test_no_answer_is_not_an_acceptance() -> None:
    d = FedDriver(Policy(csms_authorize=True))
    _approved_and_plugged(d)
    (release,) = d(ev.CsmsAuthorized(at(6), SID, "NoAnswer"))
    assert isinstance(release, cmd.SettleCard) and release.final_minor == 0


def test_a_late_answer_after_the_session_moved_on_changes_nothing() -> None:
    d = FedDriver(Policy(csms_authorize=True))
    _approved_and_plugged(d)
    d(ev.CsmsAuthorized(at(6), SID, "Accepted"))
    d(ev.ControllerUpdate(at(7), "1", controller(IecState.C, 7, enabled=True)))
    assert d(ev.CsmsAuthorized(at(8), SID, "Invalid")) == ()


def test_without_the_variable_charging_starts_at_the_terminal_approval_as_before() -> None:
    d = FedDriver(Policy(csms_authorize=False))
    produced = _approved_and_plugged(d)
    assert [type(c) for c in produced] == [cmd.BeginMetering, cmd.EnableCharging]
    assert d.calls[0].payload["eventType"] == "Started"
    s = d.st.session(SID)
    assert s is not None and s.csms_auth is None


def test_a_driver_who_cancels_while_the_csms_is_asked_is_released_without_a_transaction() -> None:
    d = FedDriver(Policy(csms_authorize=True))
    _approved_and_plugged(d)
    (release,) = d(intent(Cancel(SID), 6))
    assert isinstance(release, cmd.SettleCard) and release.final_minor == 0
    d(ev.SettleDone(at(7), SID, card(amount=0)))
    (settled,) = d.calls
    assert settled.payload["status"] == "Canceled" and "transactionId" not in settled.payload
    assert "before the CSMS answered" in settled.payload["statusInfo"]
    assert d(ev.CsmsAuthorized(at(8), SID, "Accepted")) == ()  # too late: nothing starts


def test_the_screen_is_told_while_the_csms_is_asked_and_no_longer_once_it_answered() -> None:
    d = FedDriver(Policy(csms_authorize=True))
    _approved_and_plugged(d)
    s = d.st.session(SID)
    assert s is not None and session_view(s, d.st.policy).operator_checking
    d(ev.CsmsAuthorized(at(6), SID, "Accepted"))
    s = d.st.session(SID)
    assert s is not None and not session_view(s, d.st.policy).operator_checking
