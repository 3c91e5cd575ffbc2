"""Every transition of the pure machine, as a table: from a phase, one event, where it goes
and exactly which commands it issues."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from doubles import paths
from doubles.builders import (
    FULL_PAN,
    HOLD,
    OFFER,
    Driver,
    at,
    card,
    controller,
    intent,
    link,
    reading,
    station,
)
from doubles.paths import SID

from kiosk.devices import IecState, LinkStatus, PaymentOutcome
from kiosk.session import commands as cmd
from kiosk.session import events as ev
from kiosk.session.model import Policy
from kiosk.snapshot import (
    BackToStart,
    Cancel,
    ConfirmPrice,
    ExtendTimeout,
    FailureReason,
    MoneyOutcome,
    PayByCard,
    PayByQr,
    Phase,
    StopCharging,
    StopReason,
)

P = Policy()


@dataclass(frozen=True)
class Case:
    name: str
    setup: paths.Setup
    event: Callable[[], ev.Event]
    phase: Phase  # IDLE: the session left the station
    commands: tuple[type, ...]
    stop: StopReason | None = None
    failure: FailureReason | None = None


def tick(seconds: float) -> Callable[[], ev.Event]:
    return lambda: ev.Tick(at(seconds))


def do(i: object, t: float = 20) -> Callable[[], ev.Event]:
    return lambda: intent(i, t)  # type: ignore[arg-type]


CASES = [
    # price shown
    Case("confirm price", paths.price_shown, do(ConfirmPrice(SID)), Phase.CHOOSING_PAYMENT, ()),
    Case("cancel at price", paths.price_shown, do(Cancel(SID)), Phase.IDLE, (cmd.CloseSession,)),
    Case("back at price", paths.price_shown, do(BackToStart(SID)), Phase.IDLE, (cmd.CloseSession,)),
    Case("price times out", paths.price_shown, tick(92), Phase.IDLE, (cmd.CloseSession,)),
    Case("price before timeout", paths.price_shown, tick(60), Phase.PRICE_SHOWN, ()),
    Case("stale intent ignored", paths.price_shown, do(ConfirmPrice("old")), Phase.PRICE_SHOWN, ()),
    # choosing payment
    Case(
        "pay by card",
        paths.choosing_payment,
        do(PayByCard(SID)),
        Phase.PAYING_CARD,
        (cmd.PreauthoriseCard,),
    ),
    Case(
        "pay by qr",
        paths.choosing_payment,
        do(PayByQr(SID)),
        Phase.PAYING_QR,
        (cmd.CreatePaymentLink,),
    ),
    Case(
        "cancel at payment",
        paths.choosing_payment,
        do(Cancel(SID)),
        Phase.IDLE,
        (cmd.CloseSession,),
    ),
    Case(
        "payment choice times out",
        paths.choosing_payment,
        tick(200),
        Phase.IDLE,
        (cmd.CloseSession,),
    ),
    # paying by card
    Case(
        "terminal text",
        paths.paying_card,
        lambda: ev.TerminalText(at(4), SID, "PIN"),
        Phase.PAYING_CARD,
        (),
    ),
    Case(
        "approved, not plugged",
        paths.paying_card,
        lambda: ev.PreauthDone(at(5), SID, card()),
        Phase.WAITING_FOR_PLUG,
        (),
    ),
    Case(
        "approved, plugged",
        paths.paying_card_plugged,
        lambda: ev.PreauthDone(at(5), SID, card()),
        Phase.STARTING,
        (cmd.BeginMetering, cmd.EnableCharging),
    ),
    Case(
        "cancel during card wait",
        paths.paying_card,
        do(Cancel(SID), 4),
        Phase.PAYING_CARD,
        (cmd.AbortCard,),
    ),
    Case("card wait times out", paths.paying_card, tick(200), Phase.PAYING_CARD, (cmd.AbortCard,)),
    Case(
        "approved for zero",
        paths.paying_card,
        lambda: ev.PreauthDone(at(5), SID, card(amount=0)),
        Phase.FAILED,
        (cmd.CloseSession,),
        failure=FailureReason.CARD_DECLINED,
    ),
    # paying by QR
    Case(
        "link fails",
        paths.choosing_payment,
        lambda: ev.LinkFailed(at(4), SID, "down"),
        Phase.CHOOSING_PAYMENT,
        (),
    ),
    Case(
        "link authorised",
        paths.paying_qr,
        lambda: ev.LinkUpdated(at(9), SID, link(LinkStatus.AUTHORIZED)),
        Phase.WAITING_FOR_PLUG,
        (),
    ),
    Case(
        "link expired",
        paths.paying_qr,
        lambda: ev.LinkUpdated(at(9), SID, link(LinkStatus.EXPIRED)),
        Phase.FAILED,
        (cmd.CloseSession,),
        failure=FailureReason.LINK_EXPIRED,
    ),
    Case(
        "link cancelled",
        paths.paying_qr,
        lambda: ev.LinkUpdated(at(9), SID, link(LinkStatus.CANCELLED)),
        Phase.FAILED,
        (cmd.CloseSession,),
        failure=FailureReason.CANCELLED_BY_DRIVER,
    ),
    Case(
        "link pending again",
        paths.paying_qr,
        lambda: ev.LinkUpdated(at(9), SID, link(LinkStatus.PENDING)),
        Phase.PAYING_QR,
        (),
    ),
    Case(
        "cancel qr",
        paths.paying_qr,
        do(Cancel(SID)),
        Phase.FAILED,
        (cmd.CancelPaymentLink, cmd.CloseSession),
        failure=FailureReason.CANCELLED_BY_DRIVER,
    ),
    Case(
        "qr link past expiry",
        paths.paying_qr,
        tick(4 + 300 + 16),
        Phase.FAILED,
        (cmd.CancelPaymentLink, cmd.CloseSession),
        failure=FailureReason.LINK_EXPIRED,
    ),
    # waiting for the plug
    Case(
        "vehicle plugged",
        paths.waiting_for_plug,
        lambda: ev.ControllerUpdate(at(6), "1", controller(IecState.B, 6)),
        Phase.STARTING,
        (cmd.BeginMetering, cmd.EnableCharging),
    ),
    Case(
        "plug with stale meter",
        paths.waiting_for_plug,
        lambda: ev.ControllerUpdate(at(60), "1", controller(IecState.B, 60)),
        Phase.WAITING_FOR_PLUG,
        (),
    ),
    Case(
        "pilot error while waiting",
        paths.waiting_for_plug,
        lambda: ev.ControllerUpdate(at(6), "1", controller(IecState.E, 6)),
        Phase.SETTLING,
        (cmd.SettleCard,),
        stop=StopReason.CONTROLLER_FAULT,
    ),
    Case(
        "cancel while waiting",
        paths.waiting_for_plug,
        do(Cancel(SID), 6),
        Phase.SETTLING,
        (cmd.SettleCard,),
        stop=StopReason.CANCELLED,
    ),
    Case(
        "plug timeout",
        paths.waiting_for_plug,
        tick(5 + 181),
        Phase.SETTLING,
        (cmd.SettleCard,),
        stop=StopReason.PLUG_TIMEOUT,
    ),
    Case(
        "emergency while waiting",
        paths.waiting_for_plug,
        lambda: ev.EmergencyStop(at(6), "button"),
        Phase.SETTLING,
        (cmd.SettleCard,),
        stop=StopReason.EMERGENCY,
    ),
    Case(
        "extend plug timeout",
        paths.waiting_for_plug,
        do(ExtendTimeout(SID), 6),
        Phase.WAITING_FOR_PLUG,
        (),
    ),
    # starting
    Case(
        "vehicle draws",
        paths.starting,
        lambda: ev.ControllerUpdate(at(7), "1", controller(IecState.C, 7, True)),
        Phase.CHARGING,
        (),
    ),
    Case(
        "energy flows",
        paths.starting,
        lambda: ev.MeterUpdate(at(7), "1", reading(1010, 7), 6),
        Phase.CHARGING,
        (),
    ),
    Case(
        "unplugged while starting",
        paths.starting,
        lambda: ev.ControllerUpdate(at(7), "1", controller(IecState.A, 7)),
        Phase.STOPPING,
        (cmd.DisableCharging,),
        stop=StopReason.VEHICLE,
    ),
    Case(
        "vehicle never draws",
        paths.starting,
        tick(6 + 121),
        Phase.STOPPING,
        (cmd.DisableCharging,),
        stop=StopReason.METER_FAULT,
    ),
    Case(
        "enable refused",
        paths.starting,
        lambda: ev.ChargingSwitched(at(7), "1", SID, enabled=True, ok=False),
        Phase.STOPPING,
        (cmd.DisableCharging,),
        stop=StopReason.CONTROLLER_FAULT,
    ),
    Case(
        "enable confirmed",
        paths.starting,
        lambda: ev.ChargingSwitched(at(7), "1", SID, enabled=True, ok=True),
        Phase.STARTING,
        (),
    ),
    # charging
    Case(
        "reading below the cap",
        paths.charging,
        lambda: ev.MeterUpdate(at(9), "1", reading(2000, 9), 1000),
        Phase.CHARGING,
        (),
    ),
    Case(
        "cost reaches the cap",
        paths.charging,
        lambda: ev.MeterUpdate(at(9), "1", reading(9000, 9), P.cap_minor(HOLD)),
        Phase.STOPPING,
        (cmd.DisableCharging,),
        stop=StopReason.COST_CAP,
    ),
    Case(
        "meter counter goes back",
        paths.charging,
        lambda: ev.MeterUpdate(at(9), "1", reading(1400, 9), 280),
        Phase.STOPPING,
        (cmd.DisableCharging,),
        stop=StopReason.METER_FAULT,
    ),
    Case(
        "reading delivered out of order",
        paths.charging,
        lambda: ev.MeterUpdate(at(9), "1", reading(1400, 7), 280),
        Phase.CHARGING,
        (),
    ),
    Case(
        "meter fails",
        paths.charging,
        lambda: ev.MeterFailed(at(9), "1", "timeout"),
        Phase.STOPPING,
        (cmd.DisableCharging,),
        stop=StopReason.METER_FAULT,
    ),
    Case(
        "meter goes stale",
        paths.charging,
        tick(8 + 31),
        Phase.STOPPING,
        (cmd.DisableCharging,),
        stop=StopReason.METER_FAULT,
    ),
    Case(
        "vehicle unplugged",
        paths.charging,
        lambda: ev.ControllerUpdate(at(9), "1", controller(IecState.A, 9)),
        Phase.STOPPING,
        (cmd.DisableCharging,),
        stop=StopReason.VEHICLE,
    ),
    Case(
        "controller fault state",
        paths.charging,
        lambda: ev.ControllerUpdate(at(9), "1", controller(IecState.F, 9)),
        Phase.STOPPING,
        (cmd.DisableCharging,),
        stop=StopReason.CONTROLLER_FAULT,
    ),
    Case(
        "controller silent",
        paths.charging,
        lambda: ev.ControllerFailed(at(9), "1", "timeout"),
        Phase.STOPPING,
        (cmd.DisableCharging,),
        stop=StopReason.CONTROLLER_FAULT,
    ),
    Case(
        "vehicle pauses",
        paths.charging,
        lambda: ev.ControllerUpdate(at(9), "1", controller(IecState.B, 9, True)),
        Phase.CHARGING,
        (),
    ),
    Case(
        "driver stops",
        paths.charging,
        do(StopCharging(SID), 9),
        Phase.STOPPING,
        (cmd.DisableCharging,),
        stop=StopReason.DRIVER,
    ),
    Case(
        "emergency stop",
        paths.charging,
        lambda: ev.EmergencyStop(at(9), "button"),
        Phase.STOPPING,
        (cmd.DisableCharging,),
        stop=StopReason.EMERGENCY,
    ),
    Case("leave the charging screen", paths.charging, do(BackToStart(SID), 9), Phase.CHARGING, ()),
    Case(
        "other connector's reading",
        paths.charging,
        lambda: ev.MeterUpdate(at(9), "2", reading(1, 9), 0),
        Phase.CHARGING,
        (),
    ),
    # stopping
    Case(
        "switch-off confirmed",
        paths.stopping,
        lambda: ev.ChargingSwitched(at(10), "1", SID, enabled=False, ok=True),
        Phase.STOPPING,
        (),
    ),
    Case("final reading", paths.settling, lambda: ev.Tick(at(12)), Phase.SETTLING, ()),
    Case("stopping times out", paths.stopping, tick(9 + 21), Phase.SETTLING, (cmd.SettleCard,)),
    Case("switch-off repeated", paths.stopping, tick(10), Phase.STOPPING, (cmd.DisableCharging,)),
    # settling
    Case(
        "settled",
        paths.settling,
        lambda: ev.SettleDone(at(12), SID, card(amount=306)),
        Phase.RECEIPT,
        (cmd.CloseSession,),
    ),
    Case(
        "settle outcome lost",
        paths.settling,
        lambda: ev.SettleDone(at(12), SID, card(PaymentOutcome.LINK_ERROR)),
        Phase.SETTLING,
        (cmd.QueryOpenPreauths,),
    ),
    Case(
        "booking refused: closed, not retried (C22)",
        paths.settling,
        lambda: ev.SettleDone(
            at(12), SID, replace(card(PaymentOutcome.DECLINED, 0), raw_result_code=5)
        ),
        Phase.RECEIPT,
        (cmd.CloseSession,),
    ),
    Case(
        "hold still open: retry",
        paths.settle_unknown,
        lambda: ev.OpenPreauthsChecked(at(13), SID, frozenset({231})),
        Phase.SETTLING,
        (cmd.SettleCard,),
    ),
    Case(
        "hold gone: it went through",
        paths.settle_unknown,
        lambda: ev.OpenPreauthsChecked(at(13), SID, frozenset()),
        Phase.RECEIPT,
        (cmd.CloseSession,),
    ),
    Case(
        "terminal silent: wait",
        paths.settle_unknown,
        lambda: ev.OpenPreauthsChecked(at(13), SID, None),
        Phase.SETTLING,
        (),
    ),
    Case(
        "ask again later",
        paths.settle_unknown,
        tick(12 + 31),
        Phase.SETTLING,
        (cmd.QueryOpenPreauths,),
    ),
    # receipt
    Case("leave the receipt", paths.receipt, do(BackToStart(SID), 13), Phase.IDLE, ()),
    Case("receipt times out", paths.receipt, tick(12 + 61), Phase.IDLE, ()),
    Case("receipt stays", paths.receipt, tick(30), Phase.RECEIPT, ()),
]
FAILED_CARD = [
    (PaymentOutcome.DECLINED, FailureReason.CARD_DECLINED),
    (PaymentOutcome.PIN_REQUIRED, FailureReason.CARD_PIN_REQUIRED),
    (PaymentOutcome.CARD_UNREADABLE, FailureReason.CARD_UNREADABLE),
    (PaymentOutcome.CANCELLED, FailureReason.CARD_CANCELLED),
    (PaymentOutcome.TIMEOUT, FailureReason.CARD_TIMEOUT),
    (PaymentOutcome.TERMINAL_BUSY, FailureReason.TERMINAL_UNAVAILABLE),
    (PaymentOutcome.LINK_ERROR, FailureReason.TERMINAL_UNAVAILABLE),
    (PaymentOutcome.ERROR, FailureReason.TERMINAL_UNAVAILABLE),
]


def phase_of(d: Driver) -> Phase:
    s = d.st.session(SID)
    return Phase.IDLE if s is None else s.phase


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case) -> None:
    d = Driver()
    case.setup(d)
    produced = d(case.event())
    assert phase_of(d) is case.phase
    assert tuple(type(c) for c in produced) == case.commands
    s = d.st.session(SID)
    if case.stop is not None:
        assert s is not None and s.stop_reason is case.stop
    if case.failure is not None:
        assert s is not None and s.failure is case.failure


def test_stopping_waits_for_a_reading_taken_after_the_switch_off() -> None:
    d = Driver()
    paths.stopping(d)
    d(ev.ChargingSwitched(at(10), "1", paths.SID, enabled=False, ok=True))
    assert d(ev.MeterUpdate(at(10), "1", reading(1505, 9), 303)) == ()  # measured before it
    (settle,) = d(ev.MeterUpdate(at(11), "1", reading(1510, 11), 306))
    # The driver confirmed Stop at 3,00: the final reading ends the session, not the price.
    assert isinstance(settle, cmd.SettleCard) and settle.final_minor == 300
    s = d.st.session(paths.SID)
    assert s is not None and s.energy_wh == 500 and s.cost_minor == 300


def test_a_stop_the_driver_did_not_confirm_books_the_final_reading() -> None:
    d = Driver()
    paths.charging(d)
    d(ev.ControllerUpdate(at(9), "1", controller(IecState.A, 9)))  # unplugged: the car stopped
    d(ev.ChargingSwitched(at(10), "1", paths.SID, enabled=False, ok=True))
    (settle,) = d(ev.MeterUpdate(at(11), "1", reading(1510, 11), 306))
    assert isinstance(settle, cmd.SettleCard) and settle.final_minor == 306


@pytest.mark.parametrize(("outcome", "reason"), FAILED_CARD, ids=[o.value for o, _ in FAILED_CARD])
def test_each_card_failure_has_its_reason_and_takes_nothing(
    outcome: PaymentOutcome, reason: FailureReason
) -> None:
    d = Driver()
    paths.paying_card(d)
    (close,) = d(ev.PreauthDone(at(5), SID, card(outcome, amount=0)))
    s = d.st.session(SID)
    assert s is not None and s.phase is Phase.FAILED and s.failure is reason
    assert s.money is MoneyOutcome.NONE_TAKEN and s.failure.text
    assert isinstance(close, cmd.CloseSession) and close.report is False


def test_approval_arriving_after_cancel_is_reversed() -> None:
    d = Driver()
    paths.paying_card(d)
    d(intent(Cancel(SID), 4))
    (settle,) = d(ev.PreauthDone(at(5), SID, card()))
    assert isinstance(settle, cmd.SettleCard) and settle.final_minor == 0
    (close,) = d(ev.SettleDone(at(6), SID, card(amount=0)))
    s = d.st.session(SID)
    assert s is not None and s.failure is FailureReason.CANCELLED_BY_DRIVER
    assert s.money is MoneyOutcome.HOLD_RELEASED and isinstance(close, cmd.CloseSession)


def test_cancelled_by_driver_at_the_terminal_after_abort() -> None:
    d = Driver()
    paths.paying_card(d)
    d(intent(Cancel(SID), 4))
    d(ev.PreauthDone(at(5), SID, card(PaymentOutcome.CANCELLED, amount=0)))
    s = d.st.session(SID)
    assert s is not None and s.failure is FailureReason.CANCELLED_BY_DRIVER


def test_plug_timeout_extends_a_limited_number_of_times() -> None:
    d = Driver()
    paths.waiting_for_plug(d)
    s = d.st.session(SID)
    assert s is not None and s.deadline is not None
    first = s.deadline
    for _ in range(P.max_extensions + 1):
        d(intent(ExtendTimeout(SID), 6))
    s = d.st.session(SID)
    assert s is not None and s.deadline == first + P.plug_extension * P.max_extensions


@pytest.mark.parametrize(
    ("path", "timeout", "idle_phase"),
    [
        (paths.price_shown, P.price_confirm_timeout, Phase.PRICE_SHOWN),
        (paths.choosing_payment, P.price_confirm_timeout, Phase.CHOOSING_PAYMENT),
        (paths.receipt, P.receipt_timeout, Phase.RECEIPT),
    ],
    ids=["price", "payment choice", "receipt"],
)
def test_idle_countdowns_restart_on_more_time_within_the_allowance(
    path: Callable[[Driver], None], timeout: timedelta, idle_phase: Phase
) -> None:
    d = Driver()
    path(d)
    s = d.st.session(SID)
    assert s is not None and s.phase is idle_phase and s.deadline is not None
    t = (s.deadline - at(0)).total_seconds() - 5  # five seconds before it runs out
    for n in range(P.max_extensions):
        assert d(intent(ExtendTimeout(SID), t)) == ()
        s = d.st.session(SID)
        assert s is not None and s.deadline == at(t) + timeout and s.extensions == n + 1
    d(intent(ExtendTimeout(SID), t + 1))  # over the allowance: ignored
    s = d.st.session(SID)
    assert s is not None and s.deadline == at(t) + timeout
    d(ev.Tick(at(t) + timeout))  # and the countdown still ends it
    assert phase_of(d) in (Phase.IDLE, Phase.CLOSED)


def test_each_countdown_has_its_own_allowance() -> None:
    d = Driver()
    paths.price_shown(d)
    for _ in range(P.max_extensions):
        d(intent(ExtendTimeout(SID), 2))
    paths_after = d.st.session(SID)
    assert paths_after is not None and paths_after.extensions == P.max_extensions
    d(intent(ConfirmPrice(SID), 3))
    s = d.st.session(SID)
    assert s is not None and s.phase is Phase.CHOOSING_PAYMENT and s.extensions == 0


def test_paused_vehicle_ends_the_session_after_the_pause_limit() -> None:
    d = Driver()
    paths.charging(d)
    d(ev.ControllerUpdate(at(9), "1", controller(IecState.B, 9, True)))
    for t in range(10, 600, 20):  # meter keeps answering, nothing flows
        d(ev.MeterUpdate(at(t), "1", reading(1500, t), 300))
        d(ev.Tick(at(t)))
    assert phase_of(d) is Phase.CHARGING
    d(ev.MeterUpdate(at(610), "1", reading(1500, 610), 300))
    (stop,) = d(ev.Tick(at(9 + P.suspended_timeout.total_seconds())))
    assert isinstance(stop, cmd.DisableCharging)


def test_zero_energy_session_is_reversed_not_booked() -> None:
    d = Driver()
    paths.starting(d)
    d(intent(StopCharging(SID), 8))
    d(ev.ChargingSwitched(at(9), "1", SID, enabled=False, ok=True))
    (settle,) = d(ev.MeterUpdate(at(10), "1", reading(1000, 10), 40))
    assert isinstance(settle, cmd.SettleCard) and settle.final_minor == 0
    d(ev.SettleDone(at(11), SID, card(amount=0)))
    s = d.st.session(SID)
    assert s is not None and s.phase is Phase.FAILED and s.failure is FailureReason.NO_ENERGY
    assert s.money is MoneyOutcome.HOLD_RELEASED


def test_booked_amount_never_exceeds_the_hold() -> None:
    d = Driver()
    paths.charging(d)
    d(ev.MeterUpdate(at(9), "1", reading(90000, 9), HOLD + 700))  # meter lag overshoot
    d(ev.ChargingSwitched(at(10), "1", SID, enabled=False, ok=True))
    (settle,) = d(ev.MeterUpdate(at(11), "1", reading(90010, 11), HOLD + 710))
    assert isinstance(settle, cmd.SettleCard) and settle.final_minor == HOLD


def test_a_full_pan_from_the_terminal_is_masked_before_it_is_kept() -> None:
    d = Driver()
    paths.paying_card(d)
    d(ev.PreauthDone(at(5), SID, card(pan=FULL_PAN)))
    s = d.st.session(SID)
    assert s is not None and s.auth is not None
    assert s.auth.masked_pan == "411111******1111"
    assert FULL_PAN not in repr(d.st)


def test_connector_choice_rules() -> None:
    d = Driver(station("1", "2"))
    d.online("1")
    d.online("2")
    d(ev.ConnectorChosen(at(1), "1", "A", OFFER))
    d(ev.ConnectorChosen(at(2), "2", "B", OFFER))  # price screen: the first is abandoned
    assert [s.session_id for s in d.st.sessions] == ["B"] and d.st.focus == "B"
    d(intent(ConfirmPrice("B"), 3))
    d(intent(PayByCard("B"), 3))
    d(ev.ConnectorChosen(at(4), "1", "C", OFFER))  # a payment is running: refused
    assert [s.session_id for s in d.st.sessions] == ["B"]
    d(ev.PreauthDone(at(5), "B", card()))
    d(ev.ConnectorChosen(at(6), "1", "C", OFFER))  # B waits for its plug in the background
    assert {s.session_id for s in d.st.sessions} == {"B", "C"} and d.st.focus == "C"
    d(ev.ConnectorChosen(at(7), "2", "D", OFFER))  # connector 2 is B's: focus it
    assert d.st.focus == "B"


def test_faulted_or_unknown_connector_cannot_be_chosen() -> None:
    d = Driver()
    d(ev.ConnectorChosen(at(1), "1", "A", OFFER))  # controller never answered
    assert d.st.sessions == ()
    d(ev.ControllerUpdate(at(2), "1", controller(IecState.F, 2)))
    d(ev.ConnectorChosen(at(3), "1", "A", OFFER))
    assert d.st.sessions == ()
    d.online("1")
    d(ev.ConnectorChosen(at(4), "9", "A", OFFER))
    assert d.st.sessions == ()


def test_policy_cap_keeps_a_margin_below_the_hold() -> None:
    assert P.cap_minor(5000) == 5000 - 250  # 5 % is more than 1.00
    assert P.cap_minor(1000) == 900  # 1.00 is more than 5 %
    assert Policy(cap_margin_minor=0, cap_margin_percent=0).cap_minor(1000) == 1000
    assert timedelta(seconds=30) == P.meter_stale_after


def test_vehicle_that_never_draws_is_stopped_at_the_start_timeout() -> None:
    d = Driver()
    paths.starting(d)
    for t in range(10, 126, 10):
        assert d(ev.MeterUpdate(at(t), "1", reading(1000, t), 0)) == ()
    (stop,) = d(ev.Tick(at(6 + P.start_timeout.total_seconds())))
    s = d.st.session(SID)
    assert isinstance(stop, cmd.DisableCharging)
    assert s is not None and s.stop_reason is StopReason.VEHICLE


def test_choosing_a_connector_whose_last_session_ended_starts_a_new_one() -> None:
    d = Driver()
    paths.receipt(d)
    d.st = replace(d.st, focus=None)  # the driver walked away from the receipt
    d(ev.ConnectorChosen(at(14), "1", "S2", OFFER))
    assert [s.session_id for s in d.st.sessions] == ["S2"] and d.st.focus == "S2"


def test_a_booking_the_terminal_refuses_closes_with_the_amount_owed_and_the_hold_untouched() -> (
    None
):
    """C22: a definite refusal (the host declined the booking) is final: the session closes
    with the amount it asked to book, unconfirmed and marked refused (the report shows the hold
    as authorised, not captured), and no further money command goes out."""
    d = Driver()
    paths.settling(d)
    refused = replace(card(PaymentOutcome.DECLINED, amount=0), raw_result_code=0x05)
    (close,) = d(ev.SettleDone(at(12), SID, refused))
    assert isinstance(close, cmd.CloseSession) and close.report is True
    s = close.session
    assert s.settlement is not None and s.settlement.final_minor == s.settle_minor == 300
    assert s.settlement.confirmed is False and s.settlement.refused_code == 0x05
    assert s.money is MoneyOutcome.CHARGE_REFUSED and s.phase is Phase.RECEIPT
    assert d(ev.Tick(at(12 + 31))) == ()  # nothing asked or booked again


@pytest.mark.parametrize(
    "outcome", [PaymentOutcome.ERROR, PaymentOutcome.TERMINAL_BUSY, PaymentOutcome.CANCELLED]
)
def test_a_booking_whose_outcome_is_not_a_refusal_is_asked_about_first(
    outcome: PaymentOutcome,
) -> None:
    d = Driver()
    paths.settling(d)
    assert d(ev.SettleDone(at(12), SID, card(outcome, amount=0))) == (cmd.QueryOpenPreauths(SID),)
    s = d.st.session(SID)
    assert s is not None and s.phase is Phase.SETTLING and s.settle_unknown


def test_a_refused_release_is_asked_about_and_sent_again() -> None:
    """Releasing a hold takes no money: a refused release goes the ask-then-retry way."""
    d = Driver()
    paths.paying_card(d)
    d(intent(Cancel(SID), 4))
    d(ev.PreauthDone(at(5), SID, card()))
    (query,) = d(ev.SettleDone(at(6), SID, card(PaymentOutcome.DECLINED, amount=0)))
    assert isinstance(query, cmd.QueryOpenPreauths)
    (again,) = d(ev.OpenPreauthsChecked(at(7), SID, frozenset({231})))
    assert isinstance(again, cmd.SettleCard) and again.final_minor == 0
