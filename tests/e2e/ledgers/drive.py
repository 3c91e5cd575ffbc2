"""The driver, the car and the faults of one scenario, acted out on a running kiosk."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from kiosk.session.names import Phase
from kiosk.snapshot import (
    BackToStart,
    ChooseConnector,
    ConfirmPrice,
    PayByCard,
    PayByQr,
    SessionView,
    StopCharging,
)
from tests.e2e.ledgers.scenario import Scenario
from tests.e2e.ledgers.screen import ScreenLog
from tests.e2e.rig import Kiosk

Terminal = Callable[..., object]  # terminal(op, **args): the simulator's control operations


def views(k: Kiosk) -> list[SessionView]:
    return [v for v in (k.snap.focus, *k.snap.background) if v is not None]


def phase_of(k: Kiosk, sid: str) -> Phase | None:
    return next((v.phase for v in views(k) if v.session_id == sid), None)


def pay_link(url: str) -> None:
    form = {"card_number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"}
    httpx.post(url, data=form, timeout=30)


def arm_terminal(s: Scenario, terminal: Terminal) -> None:
    fault = s.terminal_fault
    if fault == "slow_host":
        terminal("script", behaviour="slow_host", host_seconds=1.0, status_every=0.3)
    elif fault == "decline":
        terminal("script", behaviour="decline")
    elif fault != "none":
        terminal("inject", fault=fault, count=1)


def stop_by_driver(k: Kiosk, screen: ScreenLog, view: SessionView) -> None:
    screen.stop_confirm(view, k.clock.now())  # the dialog: "you pay X"; the driver says yes
    k.send(StopCharging(view.session_id))


def drain(k: Kiosk, screen: ScreenLog, rounds: int = 150) -> bool:
    """The driver comes back: stops what charges, leaves each receipt; until nothing is open
    and the backend has everything. False if that never happened."""
    journal = k.station.runtime.journal
    for _ in range(rounds):
        for view in views(k):
            if view.phase is Phase.CHARGING:
                stop_by_driver(k, screen, view)
            elif view.phase in (Phase.RECEIPT, Phase.FAILED):
                k.send(BackToStart(view.session_id))
        reporting = k.snap.reporting
        queued = reporting.outbox_queued if reporting is not None else 0
        swept = not k.station.runtime.orphan_sweep_pending  # the terminal answered a sweep
        if not journal.open_sessions() and queued == 0 and k.snap.focus is None and swept:
            return True
        k.advance(10, step=5)
    return False


def charge_until(k: Kiosk, sid: str, seconds: int, step: int = 10) -> None:
    done = 0
    while done < seconds and phase_of(k, sid) is Phase.CHARGING:
        k.advance(step, step=step)
        done += step


def act(k: Kiosk, s: Scenario, screen: ScreenLog, terminal: Terminal) -> str:
    """One session as the scenario says; returns its id."""
    sim = k.station.sims["1"]
    sim.set_ev(max_power_w=s.ev_max_power_w)
    sim.plug_in(soc=s.soc)
    k.advance(2)
    screen.tile(k.snap, k.clock.now())
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    assert k.snap.focus is not None
    screen.price(k.snap.focus, k.clock.now())
    k.send(ConfirmPrice(sid))
    if s.fault_on == "preauth" or s.method == "qr":
        arm_terminal(s, terminal)
    if s.method == "card":
        k.send(PayByCard(sid))
    else:
        k.send(PayByQr(sid))
        k.advance(1)
        focus = k.snap.focus
        if focus is not None and focus.payment_link is not None:
            url = focus.payment_link.url
            screen.write("link", session=sid, link_id=url.rsplit("/", 1)[-1], url=url)
            pay_link(url)
    for _ in range(60):
        if phase_of(k, sid) not in (Phase.PAYING_CARD, Phase.PAYING_QR, Phase.STARTING):
            break
        k.advance(1)
    if phase_of(k, sid) is not Phase.CHARGING:
        return sid  # declined, or the terminal fault ended it: drain cleans up
    if s.fault_on == "settle" and s.method == "card":
        arm_terminal(s, terminal)
    charge_until(k, sid, s.charge_s)
    if s.stop in ("paused", "driver", "full", "unplug") and s.park_s:
        sim.set_ev(max_power_w=0.0)  # the car stops drawing but stays connected
        charge_until(k, sid, s.park_s, step=1 if s.park_s < 10 else 5)
    if s.stop == "unplug":
        sim.unplug()
        charge_until(k, sid, 10, step=1)  # the kiosk sees the pilot leave: the car ended it
    elif s.stop == "meter_fault":
        sim.inject("meter", "silence")
        charge_until(k, sid, 120, step=5)
        sim.clear_faults("meter")
    elif s.stop == "controller_fault":
        sim.set_controller_error("F")
        charge_until(k, sid, 30, step=5)
        sim.set_controller_error(None)
    view = next((v for v in views(k) if v.session_id == sid), None)
    if view is not None and view.phase is Phase.CHARGING:
        stop_by_driver(k, screen, view)
    k.advance(5)
    return sid
