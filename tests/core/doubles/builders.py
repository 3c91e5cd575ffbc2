"""Small constructors for machine inputs, so transition tables stay readable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kiosk.devices import (
    CardResult,
    ControllerStatus,
    IecState,
    LinkStatus,
    MeterReading,
    PaymentLink,
    PaymentOutcome,
)
from kiosk.session import events as ev
from kiosk.session.commands import Command
from kiosk.session.machine import step
from kiosk.session.model import ConnectorConf, Offer, Policy, Station
from kiosk.snapshot import Intent

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOLD = 5000
TARIFF_JSON = '{"id": "T1", "currency": "EUR"}'
OFFER = Offer(tariff_id="T1", tariff_json=TARIFF_JSON, currency="EUR", hold_minor=HOLD)
FULL_PAN = "4111111111111111"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def station(*connector_ids: str, policy: Policy | None = None) -> Station:
    ids = connector_ids or ("1",)
    return Station(policy=policy or Policy(), connectors=tuple(ConnectorConf(c) for c in ids))


def controller(state: IecState, t: float = 0, enabled: bool = False) -> ControllerStatus:
    return ControllerStatus(
        measured_at=at(t), state=state, raw_state=state.value, charging_enabled=enabled
    )


def reading(wh: int, t: float = 0, power_w: float | None = None) -> MeterReading:
    return MeterReading(measured_at=at(t), energy_import_wh=wh, power_w=power_w)


def card(
    outcome: PaymentOutcome = PaymentOutcome.APPROVED,
    amount: int = HOLD,
    receipt_no: int = 231,
    pan: str = "541333******1234",
) -> CardResult:
    return CardResult(
        outcome=outcome,
        amount_minor=amount,
        currency="EUR",
        receipt_no=receipt_no,
        trace_no=975,
        terminal_id="52523535",
        masked_pan=pan,
        card_brand="MasterCard",
    )


def link(status: LinkStatus, t: float = 0, amount: int = HOLD) -> PaymentLink:
    return PaymentLink(
        id="L1",
        url="https://pay.example/L1",
        status=status,
        expires_at=at(t + 300),
        amount_minor=amount,
        currency="EUR",
    )


def intent(i: Intent, t: float = 0) -> ev.IntentReceived:
    return ev.IntentReceived(at(t), i)


class Driver:
    """Feeds events through the pure machine and keeps every command it issued."""

    def __init__(self, st: Station | None = None) -> None:
        self.st = st or station()
        self.commands: list[Command] = []

    def __call__(self, event: ev.Event) -> tuple[Command, ...]:
        self.st, commands = step(self.st, event)
        self.commands.extend(commands)
        return commands

    def online(self, connector: str = "1", state: IecState = IecState.A, t: float = 0) -> None:
        self(ev.ControllerUpdate(at(t), connector, controller(state, t)))
        self(ev.MeterUpdate(at(t), connector, reading(1000, t)))
