"""Transitions shared by several phases: entering a phase, settling the money, closing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from kiosk.session.commands import CancelPaymentLink, CloseSession, Command, SettleCard
from kiosk.session.model import Policy, Session, Settlement
from kiosk.session.names import FailureReason, MoneyOutcome, PaymentMethod, Phase, StopReason
from kiosk.snapshot import Amount, CostLine, CountdownKind

Step = tuple[Session, list[Command]]


def enter(
    s: Session,
    phase: Phase,
    at: datetime,
    deadline: timedelta | None = None,
    kind: CountdownKind | None = None,
) -> Session:
    return replace(
        s,
        phase=phase,
        phase_since=at,
        deadline=None if deadline is None else at + deadline,
        deadline_kind=kind if deadline is not None else None,
        extensions=0,  # each countdown has its own allowance of "more time"
    )


def idle_timeout(kind: CountdownKind | None, policy: Policy) -> timedelta | None:
    """The countdowns that only wait for a driver who may be slow: they restart on request."""
    if kind is CountdownKind.PRICE_CONFIRM:
        return policy.price_confirm_timeout
    if kind is CountdownKind.RECEIPT:
        return policy.receipt_timeout
    return None


def extend_idle(s: Session, at: datetime, policy: Policy) -> Session | None:
    """A fresh idle countdown for a driver who asked for more time, within the allowance."""
    timeout = idle_timeout(s.deadline_kind, policy)
    if timeout is None or s.deadline is None or s.extensions >= policy.max_extensions:
        return None
    return replace(s, deadline=at + timeout, extensions=s.extensions + 1)


def due(s: Session, at: datetime) -> bool:
    return s.deadline is not None and at >= s.deadline


def abandon(s: Session, at: datetime) -> Step:
    """Leave before any money was involved: nothing to report."""
    closed = replace(enter(s, Phase.CLOSED, at), closed=True)
    return closed, [CloseSession(closed, report=False)]


def fail_unpaid(s: Session, at: datetime, reason: FailureReason, policy: Policy) -> Step:
    """A payment that never produced a hold: show why, nothing to settle."""
    failed = replace(
        enter(s, Phase.FAILED, at, policy.receipt_timeout, CountdownKind.RECEIPT),
        failure=reason,
        money=MoneyOutcome.NONE_TAKEN,
        terminal_text=None,
        closed=True,
    )
    return failed, [CloseSession(failed, report=False)]


def final_amount(s: Session) -> int:
    """What to book: the tariff cost of the metered energy, never more than the hold, and
    never more than the driver was shown when confirming Stop. On a signing meter: the cost
    of the signed energy (the Stop screen's amount was provisional), never more than the hold."""
    if s.auth is None or s.energy_wh == 0:
        return 0  # no energy, no charge (also no flat fee)
    if s.signing:
        signed = s.signed
        cost = 0 if signed is None or signed.cost_minor is None else signed.cost_minor
        return max(0, min(cost, s.auth.amount_minor))
    cost = s.cost_minor if s.agreed_minor is None else min(s.cost_minor, s.agreed_minor)
    return max(0, min(cost, s.auth.amount_minor))


def booked_lines(s: Session, booked_minor: int) -> tuple[CostLine, ...]:
    """The booked amount by price component (energy, time, parking, session fee, limits), then
    what the booking left out of the tariff cost, so the lines add up to the booked amount."""
    lines = s.cost_lines
    if booked_minor == 0 or not lines:
        return ()  # nothing booked, or a session journaled before lines were kept
    left_out = booked_minor - sum(line.amount.minor for line in lines)
    if left_out:
        agreed = not s.signing and s.agreed_minor is not None and booked_minor == s.agreed_minor
        name = "stop_price" if agreed else "hold_cap"
        lines += (CostLine(name, Amount(left_out, s.offer.currency)),)
    return lines


_ZERO_REASON = {
    StopReason.PLUG_TIMEOUT: FailureReason.PLUG_TIMEOUT,
    StopReason.CANCELLED: FailureReason.CANCELLED_BY_DRIVER,
    StopReason.CONTROLLER_FAULT: FailureReason.CONNECTOR_FAULT,
    StopReason.EMERGENCY: FailureReason.CONNECTOR_FAULT,
    StopReason.METER_FAULT: FailureReason.CONNECTOR_FAULT,
    StopReason.RECOVERY: FailureReason.INTERRUPTED,
    StopReason.NOT_AUTHORISED: FailureReason.OPERATOR_REFUSED,
}


def settle(s: Session, at: datetime, policy: Policy) -> Step:
    """Charging is over (or never began): book the cost or release the hold."""
    auth = s.auth
    assert auth is not None
    final = final_amount(s)
    s = replace(s, ended_at=s.ended_at or at, settle_minor=final)
    if auth.method is PaymentMethod.CSMS:
        # OCPP C25: the CSMS's PSP holds the money and the CSMS settles it; the station's part
        # is the cost it reports (TransactionEvent Ended, the session report). Nothing to book.
        done = replace(s, settlement=Settlement(final_minor=final, confirmed=False))
        return finish(done, at, policy)
    if auth.method is PaymentMethod.QR:
        # The backend captures when the session report arrives; the report is the settlement.
        done = replace(s, settlement=Settlement(final_minor=final, confirmed=False))
        step, commands = finish(done, at, policy)
        if final == 0 and auth.link_id is not None:
            commands.append(CancelPaymentLink(s.session_id, auth.link_id))
        return step, commands
    s = replace(
        enter(s, Phase.SETTLING, at), settle_attempts=s.settle_attempts + 1, settle_unknown=False
    )
    return s, [SettleCard(s.session_id, auth, final, s.settle_attempts)]


def finish(s: Session, at: datetime, policy: Policy) -> Step:
    """The settlement is known: show the receipt (or why nothing was charged) and close."""
    assert s.settlement is not None
    pending = not s.settlement.confirmed
    if s.settlement.final_minor > 0:
        money = MoneyOutcome.CHARGE_PENDING if pending else MoneyOutcome.CHARGED
        if s.settlement.refused_code is not None:
            money = MoneyOutcome.CHARGE_REFUSED
        out = replace(
            enter(s, Phase.RECEIPT, at, policy.receipt_timeout, CountdownKind.RECEIPT),
            money=money,
            closed=True,
        )
    else:
        money = MoneyOutcome.RELEASE_PENDING if pending else MoneyOutcome.HOLD_RELEASED
        reason = _ZERO_REASON.get(s.stop_reason or StopReason.DRIVER, FailureReason.NO_ENERGY)
        out = replace(
            enter(s, Phase.FAILED, at, policy.receipt_timeout, CountdownKind.RECEIPT),
            money=money,
            failure=reason,
            closed=True,
        )
    return out, [CloseSession(out, report=True)]
