"""After a restart: decide, per restored session, whether it resumes or is finished.

The journal says what was open; the `Resumed` event says what the devices report now. A hold
whose session is still charging is never reversed; a settle whose outcome was lost is checked
against the terminal's open pre-auths before it is sent again.
"""

from __future__ import annotations

from dataclasses import replace

from kiosk.session.charging import stop
from kiosk.session.commands import (
    BeginMetering,
    CancelPaymentLink,
    CloseSession,
    Command,
    DisableCharging,
    QueryOpenPreauths,
    SettleCard,
)
from kiosk.session.common import Step, abandon, fail_unpaid, finish, settle
from kiosk.session.events import Resumed
from kiosk.session.model import Session, Settlement, Station
from kiosk.session.names import FailureReason, PaymentMethod, Phase, StopReason


def on_resumed(s: Session, e: Resumed, st: Station) -> Step:
    policy = st.policy
    phase = s.phase
    if phase in (Phase.PRICE_SHOWN, Phase.CHOOSING_PAYMENT):
        return abandon(s, e.at)
    if phase is Phase.PAYING_CARD:
        # No approval was journaled (or the terminal dropped the one journaled: its
        # acknowledgement never left), so none was kept; any hold the terminal still reports
        # open is swept as an orphan by recovery.
        return fail_unpaid(s, e.at, FailureReason.INTERRUPTED, policy)
    if phase is Phase.PAYING_QR:
        failed, commands = fail_unpaid(s, e.at, FailureReason.INTERRUPTED, policy)
        if s.link_id is not None:
            commands.insert(0, CancelPaymentLink(s.session_id, s.link_id))
        return failed, commands
    if phase in (Phase.RECEIPT, Phase.FAILED):
        return _leave(s, e)
    if phase is Phase.SETTLING:
        return _resume_settling(s, e, st)
    if phase is Phase.STOPPING:
        # A signed end asked for before the restart is asked again: the record, if the meter
        # signed it, was collected at start-up and is billed from the journal.
        s = replace(
            s,
            deadline=e.at + policy.stopping_timeout,
            disabled_confirmed=False,
            signed_requested=False,
        )
        return s, [DisableCharging(s.session_id, s.connector_id)]
    return _resume_running(s, e, st)


def _leave(s: Session, e: Resumed) -> Step:
    """The money was final before the restart; the receipt screen is gone with it."""
    out = replace(s, phase=Phase.CLOSED, phase_since=e.at, deadline=None, deadline_kind=None)
    if s.closed:
        return out, []
    closed = replace(out, closed=True)
    return closed, [CloseSession(replace(s, closed=True), report=s.auth is not None)]


def _resume_settling(s: Session, e: Resumed, st: Station) -> Step:
    auth, amount = s.auth, s.settle_minor
    assert auth is not None and amount is not None
    if s.settlement is not None:
        return finish(s, e.at, st.policy)
    if e.open_receipts is None:
        # The terminal did not answer: keep asking, never re-send blindly.
        s = replace(s, settle_unknown=True, deadline=e.at)
        return s, [QueryOpenPreauths(s.session_id)]
    if auth.receipt_no in e.open_receipts:
        s = replace(s, settle_unknown=False, settle_attempts=s.settle_attempts + 1)
        return s, [SettleCard(s.session_id, auth, amount, s.settle_attempts)]
    settled = Settlement(final_minor=amount, confirmed=True, assumed=True)
    return finish(replace(s, settlement=settled), e.at, st.policy)


def _resume_running(s: Session, e: Resumed, st: Station) -> Step:
    """WAITING_FOR_PLUG, STARTING, CHARGING: resume only what is provably still charging."""
    controller, reading = e.controller, e.reading
    last = s.last_reading
    continuous = (
        reading is not None
        and (last is None or reading.energy_import_wh >= last.energy_import_wh)
        and e.at - reading.measured_at <= st.policy.meter_stale_after
    )
    running = (
        controller is not None
        and controller.state.energy_requested
        and controller.charging_enabled
        and s.meter_start is not None
        # A signing meter's transaction was ended at start-up (its record collected): the
        # session cannot go on under it, so it is stopped and billed from that record.
        and not s.signing
    )
    if running and continuous:
        assert s.meter_start is not None
        commands: list[Command] = [
            BeginMetering(s.session_id, s.connector_id, s.meter_start, s.offer.tariff_json)
        ]
        if s.phase is not Phase.CHARGING:
            s = replace(s, phase=Phase.CHARGING, phase_since=e.at, deadline=None)
        return s, commands
    if s.phase is Phase.WAITING_FOR_PLUG:
        s = replace(s, stop_reason=StopReason.RECOVERY)
        auth = s.auth
        gone = (
            auth is not None
            and auth.method is PaymentMethod.CARD
            and e.open_receipts is not None
            and auth.receipt_no not in e.open_receipts
        )
        if gone:
            # The terminal no longer holds it (reversed itself: our acknowledgement was lost).
            settled = Settlement(final_minor=0, confirmed=True, assumed=True)
            return finish(
                replace(s, settle_minor=0, settlement=settled, ended_at=e.at), e.at, st.policy
            )
        return settle(s, e.at, st.policy)
    reason = StopReason.RECOVERY if continuous or reading is None else StopReason.METER_FAULT
    stopped, commands = stop(s, e.at, reason, st)
    if controller is not None and controller.charging_enabled is False:
        stopped = replace(stopped, disabled_confirmed=True, ended_at=e.at)
    return stopped, commands
