"""Canonical ways to bring a pure machine into each phase, for transition tables."""

from __future__ import annotations

from collections.abc import Callable

from doubles.builders import OFFER, Driver, at, card, controller, intent, link, reading
from kiosk.devices import IecState, LinkStatus
from kiosk.session import events as ev
from kiosk.snapshot import ConfirmPrice, PayByCard, PayByQr, StopCharging

SID = "S1"
Setup = Callable[[Driver], None]


def price_shown(d: Driver) -> None:
    d.online()
    d(ev.ConnectorChosen(at(1), "1", SID, OFFER))


def choosing_payment(d: Driver) -> None:
    price_shown(d)
    d(intent(ConfirmPrice(SID), 2))


def paying_card(d: Driver) -> None:
    choosing_payment(d)
    d(intent(PayByCard(SID), 3))


def paying_card_plugged(d: Driver) -> None:
    choosing_payment(d)
    d(ev.ControllerUpdate(at(3), "1", controller(IecState.B, 3)))
    d(ev.MeterUpdate(at(3), "1", reading(1000, 3)))
    d(intent(PayByCard(SID), 3))


def paying_qr(d: Driver) -> None:
    choosing_payment(d)
    d(intent(PayByQr(SID), 3))
    d(ev.LinkCreated(at(4), SID, link(LinkStatus.PENDING, 4)))


def waiting_for_plug(d: Driver) -> None:
    paying_card(d)
    d(ev.PreauthDone(at(5), SID, card()))


def starting(d: Driver) -> None:
    waiting_for_plug(d)
    d(ev.MeterUpdate(at(6), "1", reading(1000, 6), None))
    d(ev.ControllerUpdate(at(6), "1", controller(IecState.B, 6)))


def charging(d: Driver) -> None:
    starting(d)
    d(ev.ControllerUpdate(at(7), "1", controller(IecState.C, 7, enabled=True)))
    d(ev.MeterUpdate(at(8), "1", reading(1500, 8), 300))


def stopping(d: Driver) -> None:
    charging(d)
    d(intent(StopCharging(SID), 9))


def settling(d: Driver) -> None:
    stopping(d)
    d(ev.ChargingSwitched(at(10), "1", SID, enabled=False, ok=True))
    d(ev.MeterUpdate(at(11), "1", reading(1510, 11), 306))


def receipt(d: Driver) -> None:
    settling(d)
    d(ev.SettleDone(at(12), SID, card(amount=306)))


def settle_unknown(d: Driver) -> None:
    settling(d)
    from kiosk.devices import PaymentOutcome

    d(ev.SettleDone(at(12), SID, card(PaymentOutcome.LINK_ERROR, amount=306)))
