"""Reset's rule: restart now only when no session pays, holds or settles money; otherwise
Scheduled, and the restart once the last such session's money is final."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from drivers.ocpp.reset import ResetPlan
from kiosk.session.model import ConnectorConf, Offer, Policy, Session, Station
from kiosk.session.names import Phase

AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
OFFER = Offer("t", "{}", "EUR", 5000)


def station(*phases: Phase) -> Station:
    sessions = tuple(
        Session(f"s{i}", str(i), phase, OFFER, AT, AT) for i, phase in enumerate(phases)
    )
    return Station(Policy(), (ConnectorConf("0"), ConnectorConf("1")), sessions=sessions)


def plan_on(now: list[Station]) -> tuple[ResetPlan, threading.Event]:
    fired = threading.Event()
    plan = ResetPlan(lambda: now[0], answer_first_s=0.0)
    plan.restart = fired.set
    return plan, fired


def test_idle_or_a_receipt_on_screen_restarts_at_once() -> None:
    for phases in ((), (Phase.RECEIPT,), (Phase.PRICE_SHOWN,)):
        plan, fired = plan_on([station(*phases)])
        assert plan.request("OnIdle", None) == ("Accepted", None)
        assert fired.wait(10)


def test_a_session_with_money_schedules_it_until_the_money_is_final() -> None:
    now = [station(Phase.CHARGING, Phase.SETTLING)]
    plan, fired = plan_on(now)
    assert plan.request("Immediate", None) == ("Scheduled", None)
    plan.snapshot(None)
    now[0] = station(Phase.SETTLING)
    plan.snapshot(None)
    assert not fired.is_set()  # still settling
    now[0] = station(Phase.RECEIPT)
    plan.snapshot(None)
    assert fired.wait(10)


def test_one_evse_or_no_way_to_restart_is_refused() -> None:
    plan, fired = plan_on([station()])
    assert plan.request("OnIdle", 1) == ("Rejected", "NoEvseReset")
    plan.restart = None
    assert plan.request("OnIdle", None) == ("Rejected", "NoRestart")
    assert not fired.is_set()
