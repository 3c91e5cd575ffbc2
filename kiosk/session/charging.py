"""With a hold: waiting for the plug, charging with live cost, stopping, settling."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from kiosk.devices import PaymentOutcome
from kiosk.session.commands import (
    AuthorizeAtCsms,
    BeginMetering,
    BeginSignedTransaction,
    Command,
    DisableCharging,
    EnableCharging,
    EndSignedTransaction,
    QueryOpenPreauths,
    SettleCard,
)
from kiosk.session.common import Step, due, enter, finish, settle
from kiosk.session.events import (
    ChargingSwitched,
    ControllerFailed,
    ControllerUpdate,
    CsmsAuthorized,
    CsmsLimitSet,
    EmergencyStop,
    Event,
    IntentReceived,
    MeterFailed,
    MeterUpdate,
    OpenPreauthsChecked,
    SettleDone,
    SignedBegun,
    SignedEnded,
    Tick,
)
from kiosk.session.model import Policy, Session, Settlement, SignedOutcome, Station
from kiosk.session.names import PaymentMethod, Phase, StopReason
from kiosk.snapshot import Cancel, CountdownKind, ExtendTimeout, StopCharging


def authorised(s: Session, at: datetime, st: Station) -> Step:
    """A hold was approved (and journaled): start if the vehicle is there, else wait for it.
    When the operator's CSMS must accept each payment first, ask it; nothing starts before."""
    waiting = enter(s, Phase.WAITING_FOR_PLUG, at, st.policy.plug_timeout, CountdownKind.PLUG_IN)
    if st.policy.csms_authorize and s.auth is not None and s.auth.method is not PaymentMethod.CSMS:
        return replace(waiting, csms_auth="Pending"), [AuthorizeAtCsms(s.session_id, s.auth)]
    return _try_start(waiting, at, st)


def _csms_answered(s: Session, e: CsmsAuthorized, st: Station) -> Step:
    """Accepted: charging may start. Anything else: release the hold (OCPP C19)."""
    if s.csms_auth != "Pending":
        return s, []
    s = replace(s, csms_auth=e.status)
    if e.status == "Accepted":
        return _try_start(s, e.at, st)
    return settle(replace(s, stop_reason=StopReason.NOT_AUTHORISED), e.at, st.policy)


def _try_start(s: Session, at: datetime, st: Station) -> Step:
    if s.csms_auth == "Pending":
        return s, []  # the CSMS has not accepted the payment yet
    live = st.live_of(s.connector_id)
    reading = live.reading
    fresh = reading is not None and at - reading.measured_at <= st.policy.meter_stale_after
    if not (live.iec.vehicle_connected and not live.iec.is_error and fresh) or st.emergency:
        return s, []
    assert reading is not None and s.auth is not None
    started = replace(
        enter(s, Phase.STARTING, at, st.policy.start_timeout),
        meter_start=reading,
        last_reading=reading,
        started_at=at,
        cost_minor=0,
    )
    begin = BeginMetering(s.session_id, s.connector_id, reading, s.offer.tariff_json)
    if s.signing:
        # No energy may flow before the meter's signed transaction has begun.
        return started, [begin, BeginSignedTransaction(s.session_id, s.connector_id)]
    return started, [begin, EnableCharging(s.session_id, s.connector_id)]


def settle_metered(s: Session, at: datetime, st: Station) -> Step:
    """Charging is off: settle, on a signing meter once its record says what to bill."""
    if not s.signing or s.signed is not None or s.meter_start is None:
        return settle(s, at, st.policy)
    if s.signed_requested:
        return s, []  # the record is being read
    s = replace(s, signed_requested=True, ended_at=s.ended_at or at)
    return s, [EndSignedTransaction(s.session_id, s.connector_id)]


def _signed_settle(s: Session, e: SignedEnded, st: Station) -> Step:
    """The record is journaled: book its energy's cost; above the hold, the hold, flagged."""
    outcome = e.outcome
    assert s.auth is not None
    cost = outcome.cost_minor or 0
    if cost > s.auth.amount_minor:
        outcome = replace(outcome, flags=(*outcome.flags, "capped_at_hold"))
    s = replace(s, signed=outcome, cost_minor=cost, cost_lines=outcome.cost_lines)
    return settle(s, e.at, st.policy)


def stop(s: Session, at: datetime, reason: StopReason, st: Station) -> Step:
    stopping = replace(
        enter(s, Phase.STOPPING, at, st.policy.stopping_timeout),
        stop_reason=reason,
        stop_requested_at=at,
        disabled_confirmed=False,
    )
    return stopping, [DisableCharging(s.session_id, s.connector_id)]


def _csms_limit(s: Session, e: CsmsLimitSet, st: Station) -> Step:
    """The CSMS's maxCost for a session it was paid for (C25, F07 remote start with a cost
    limit): charging stops at the cap below it as below a hold. Only ever lowered: the
    connector's hold amount stays the most a session here costs."""
    auth = s.auth
    if auth is None or auth.method is not PaymentMethod.CSMS:
        return s, []
    if not 0 <= e.max_cost_minor < auth.amount_minor:
        return s, []
    s = replace(s, auth=replace(auth, amount_minor=e.max_cost_minor))
    running = s.phase in (Phase.STARTING, Phase.CHARGING)
    if running and s.cost_minor >= st.policy.cap_minor(e.max_cost_minor):
        return stop(s, e.at, StopReason.COST_CAP, st)
    return s, []


def on_waiting_for_plug(s: Session, e: Event, st: Station) -> Step:
    policy = st.policy
    if isinstance(e, CsmsAuthorized) and e.session_id == s.session_id:
        return _csms_answered(s, e, st)
    if isinstance(e, CsmsLimitSet) and e.session_id == s.session_id:
        return _csms_limit(s, e, st)
    if isinstance(e, ControllerUpdate | MeterUpdate) and e.connector_id == s.connector_id:
        if isinstance(e, ControllerUpdate) and e.status.state.is_error:
            return settle(replace(s, stop_reason=StopReason.CONTROLLER_FAULT), e.at, policy)
        return _try_start(s, e.at, st)
    if isinstance(e, EmergencyStop):
        return settle(replace(s, stop_reason=StopReason.EMERGENCY), e.at, policy)
    if isinstance(e, IntentReceived):
        if isinstance(e.intent, Cancel):
            return settle(replace(s, stop_reason=StopReason.CANCELLED), e.at, policy)
        if isinstance(e.intent, ExtendTimeout) and s.extensions < policy.max_extensions:
            base = s.deadline or e.at
            extended = replace(
                s, deadline=base + policy.plug_extension, extensions=s.extensions + 1
            )
            return extended, []
    if isinstance(e, Tick) and due(s, e.at):
        return settle(replace(s, stop_reason=StopReason.PLUG_TIMEOUT), e.at, policy)
    return s, []


def _metered(s: Session, e: MeterUpdate, st: Station) -> Step:
    """Take a reading into the session; stop on an implausible one or at the cost cap."""
    last = s.last_reading
    if last is not None and e.reading.measured_at < last.measured_at:
        return s, []  # delivered out of order: a newer reading is already in
    if last is not None and e.reading.energy_import_wh < last.energy_import_wh:
        if s.phase is Phase.STOPPING:
            return s, []
        return stop(s, e.at, StopReason.METER_FAULT, st)  # counter went back: keep the last good
    cost = s.cost_minor if e.cost_minor is None else e.cost_minor
    lines = s.cost_lines if e.cost_lines is None else e.cost_lines
    s = replace(s, last_reading=e.reading, cost_minor=cost, cost_lines=lines)
    assert s.auth is not None
    if s.phase is not Phase.STOPPING and cost >= st.policy.cap_minor(s.auth.amount_minor):
        return stop(s, e.at, StopReason.COST_CAP, st)
    return s, []


def on_running(s: Session, e: Event, st: Station) -> Step:
    """STARTING and CHARGING: energy may flow; every fault ends in STOPPING."""
    policy = st.policy
    if isinstance(e, CsmsLimitSet) and e.session_id == s.session_id:
        return _csms_limit(s, e, st)
    if isinstance(e, MeterUpdate) and e.connector_id == s.connector_id:
        s, commands = _metered(s, e, st)
        if s.phase is Phase.STARTING and s.energy_wh > 0:
            s = enter(s, Phase.CHARGING, e.at)
        return s, commands
    if isinstance(e, MeterFailed) and e.connector_id == s.connector_id:
        return stop(s, e.at, StopReason.METER_FAULT, st)
    if isinstance(e, ControllerFailed) and e.connector_id == s.connector_id:
        return stop(s, e.at, StopReason.CONTROLLER_FAULT, st)
    if isinstance(e, ControllerUpdate) and e.connector_id == s.connector_id:
        state = e.status.state
        if state.is_error:
            return stop(s, e.at, StopReason.CONTROLLER_FAULT, st)
        if not state.vehicle_connected:
            return stop(s, e.at, StopReason.VEHICLE, st)
        if state.energy_requested:
            if s.phase is Phase.STARTING:
                s = enter(s, Phase.CHARGING, e.at)
            return replace(s, suspended_since=None), []
        if s.phase is Phase.CHARGING and s.suspended_since is None:
            return replace(s, suspended_since=e.at), []  # vehicle full or pausing
        return s, []
    if isinstance(e, SignedBegun) and e.session_id == s.session_id:
        if e.ok:
            return replace(s, signed_begun=True), [EnableCharging(s.session_id, s.connector_id)]
        why = f"the signed transaction did not begin: {e.reason}"
        refused = SignedOutcome(0, False, ("no_record",), why)
        return stop(replace(s, signed=refused), e.at, StopReason.METER_FAULT, st)
    if isinstance(e, ChargingSwitched) and e.session_id == s.session_id and e.enabled:
        if not e.ok:
            return stop(s, e.at, StopReason.CONTROLLER_FAULT, st)
        return s, []
    if isinstance(e, EmergencyStop):
        return stop(s, e.at, StopReason.EMERGENCY, st)
    if isinstance(e, IntentReceived) and isinstance(e.intent, StopCharging | Cancel):
        if isinstance(e.intent, StopCharging):
            # The driver confirmed the cost on screen: that is what is booked, to the cent.
            return stop(replace(s, agreed_minor=s.cost_minor), e.at, StopReason.DRIVER, st)
        return stop(s, e.at, StopReason.CANCELLED, st)
    if isinstance(e, Tick):
        reading = s.last_reading
        if reading is not None and e.at - reading.measured_at > policy.meter_stale_after:
            return stop(s, e.at, StopReason.METER_FAULT, st)
        if s.phase is Phase.STARTING and due(s, e.at):
            return stop(s, e.at, StopReason.VEHICLE, st)  # enabled, but nothing was drawn
        if s.suspended_since is not None and e.at - s.suspended_since >= policy.suspended_timeout:
            return stop(s, e.at, StopReason.VEHICLE, st)
    return s, []


def on_stopping(s: Session, e: Event, st: Station) -> Step:
    if isinstance(e, SignedEnded) and e.session_id == s.session_id and s.signed is None:
        return _signed_settle(s, e, st)
    if isinstance(e, ChargingSwitched) and e.session_id == s.session_id and not e.enabled:
        if e.ok:
            s = replace(s, disabled_confirmed=True, ended_at=e.at)
            if s.stop_reason is StopReason.METER_FAULT:
                return settle_metered(s, e.at, st)  # no trustworthy reading will come
        return s, []
    if isinstance(e, MeterUpdate) and e.connector_id == s.connector_id:
        if s.stop_reason is StopReason.METER_FAULT:
            return s, []
        if s.agreed_minor is None:
            s, _ = _metered(s, e, st)
        # After the driver's Stop the reading only confirms the switch-off: what the meter
        # adds meanwhile is not billed, so every ledger ends at the amount the driver saw.
        if s.disabled_confirmed and s.ended_at is not None and e.reading.measured_at >= s.ended_at:
            return settle_metered(s, e.at, st)  # the final reading, after the switch-off
        return s, []
    if isinstance(e, Tick):
        if due(s, e.at):
            return settle_metered(s, e.at, st)  # bill the last good reading
        if not s.disabled_confirmed:
            return s, [DisableCharging(s.session_id, s.connector_id)]
    return s, []


def on_settling(s: Session, e: Event, st: Station) -> Step:
    policy = st.policy
    auth, amount = s.auth, s.settle_minor
    assert auth is not None and amount is not None
    if isinstance(e, SettleDone) and e.session_id == s.session_id:
        result = e.result
        if result.outcome is PaymentOutcome.APPROVED:
            settled = Settlement(
                final_minor=amount,
                confirmed=True,
                receipt_no=result.receipt_no,
                trace_no=result.trace_no,
            )
            return finish(replace(s, settlement=settled, settle_unknown=False), e.at, policy)
        if result.outcome is PaymentOutcome.DECLINED and amount > 0:
            return _refused(s, e.at, policy, amount, result.raw_result_code)
        # Outcome unknown (link lost, error, terminal busy): ask before anything is retried.
        return _unknown(s, e.at, st)
    if isinstance(e, OpenPreauthsChecked) and e.session_id == s.session_id:
        if not s.settle_unknown:
            return s, []
        if e.receipts is None:
            return replace(s, deadline=e.at + policy.settle_retry), []
        if auth.receipt_no in e.receipts:
            s = replace(
                s, settle_unknown=False, settle_attempts=s.settle_attempts + 1, deadline=None
            )
            return s, [SettleCard(s.session_id, auth, amount, s.settle_attempts)]
        # Not open any more: the lost settle went through.
        settled = Settlement(final_minor=amount, confirmed=True, assumed=True)
        return finish(replace(s, settlement=settled, settle_unknown=False), e.at, policy)
    if isinstance(e, Tick) and s.settle_unknown and due(s, e.at):
        return replace(s, deadline=e.at + policy.settle_retry), [QueryOpenPreauths(s.session_id)]
    return s, []


def _refused(s: Session, at: datetime, policy: Policy, amount: int, code: int | None) -> Step:
    """The terminal answered and refused the booking (a host decline): nothing was booked, so
    the outcome is known and asking again would get the same answer. The session closes with
    the amount owed and not collected; the report tells the backend (payment `authorized`, not
    captured) and the CSMS (NotifySettlement Rejected). The hold stays open for the operator to
    capture with its reference until the next end-of-day, after which the orphan sweep
    releases it (kiosk.journal.store.held_receipts)."""
    refused = Settlement(final_minor=amount, confirmed=False, refused_code=code or 0)
    return finish(replace(s, settlement=refused, settle_unknown=False), at, policy)


def _unknown(s: Session, at: datetime, st: Station) -> Step:
    commands: list[Command] = [QueryOpenPreauths(s.session_id)]
    return replace(s, settle_unknown=True, deadline=at + st.policy.settle_retry), commands
