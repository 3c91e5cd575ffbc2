"""The session state machine: `step(station, event) -> (station, commands)`.

Pure: no I/O, no threads, no clock. Station-wide events (device updates, emergencies, ticks)
reach every session they concern; intents reach the session they name. Sessions leave the
station when they reach CLOSED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from kiosk.devices import ControllerStatus
from kiosk.session import charging, payment
from kiosk.session.commands import Command
from kiosk.session.common import Step, abandon, due, extend_idle
from kiosk.session.events import (
    ConnectorChosen,
    ControllerFailed,
    ControllerUpdate,
    CsmsStartRequested,
    EmergencyCleared,
    EmergencyStop,
    Event,
    IntentReceived,
    MeterFailed,
    MeterUpdate,
    Resumed,
    Tick,
    WebPaymentStarted,
)
from kiosk.session.model import Authorisation, ConnectorLive, Session, Station
from kiosk.session.names import PaymentMethod, Phase
from kiosk.session.resume import on_resumed
from kiosk.snapshot import BackToStart, CountdownKind, ExtendTimeout

Handler = Callable[[Session, Event, Station], Step]

HANDLERS: dict[Phase, Handler] = {
    Phase.PRICE_SHOWN: payment.on_price_shown,
    Phase.CHOOSING_PAYMENT: payment.on_choosing_payment,
    Phase.PAYING_CARD: payment.on_paying_card,
    Phase.PAYING_QR: payment.on_paying_qr,
    Phase.WAITING_FOR_PLUG: charging.on_waiting_for_plug,
    Phase.STARTING: charging.on_running,
    Phase.CHARGING: charging.on_running,
    Phase.STOPPING: charging.on_stopping,
    Phase.SETTLING: charging.on_settling,
}

# A new driver may take the screen from a session in these phases (it keeps running).
_BACKGROUND_OK = frozenset(
    {Phase.WAITING_FOR_PLUG, Phase.STARTING, Phase.CHARGING, Phase.STOPPING, Phase.SETTLING}
)
_ABANDONABLE = frozenset({Phase.PRICE_SHOWN, Phase.CHOOSING_PAYMENT})
_ENDED = frozenset({Phase.RECEIPT, Phase.FAILED})


def step(st: Station, event: Event) -> tuple[Station, tuple[Command, ...]]:
    st = _observe(st, event)
    commands: list[Command] = []
    if isinstance(event, ConnectorChosen):
        st, commands = _choose(st, event)
    elif isinstance(event, CsmsStartRequested):
        st, commands = _remote_start(st, event)
    elif isinstance(event, Resumed):
        s = st.session(event.session_id)
        if s is not None:
            new, commands = on_resumed(s, event, st)
            st = _put(st, new)
    else:
        target = _target(st, event)
        for s in list(st.sessions):
            if target is not None and s.session_id != target:
                continue
            new, produced = _step_session(s, event, st)
            commands.extend(produced)
            st = _put(st, new)
        if isinstance(event, IntentReceived) and isinstance(event.intent, BackToStart):
            focused = st.session(st.focus)
            if focused is not None and focused.phase in _BACKGROUND_OK:
                st = replace(st, focus=None)
    return st, tuple(commands)


def _step_session(s: Session, event: Event, st: Station) -> Step:
    if isinstance(event, IntentReceived) and isinstance(event.intent, ExtendTimeout):
        extended = extend_idle(s, event.at, st.policy)
        if extended is not None:
            return extended, []
    if s.phase in _ENDED:
        leave = isinstance(event, Tick) and due(s, event.at)
        leave = leave or (
            isinstance(event, IntentReceived) and isinstance(event.intent, BackToStart)
        )
        if leave:
            return replace(s, phase=Phase.CLOSED, phase_since=event.at, deadline=None), []
        return s, []
    handler = HANDLERS.get(s.phase)
    if handler is None:
        return s, []
    return handler(s, event, st)


def _target(st: Station, event: Event) -> str | None:
    """The one session an intent or a session-bound result is for; None means all."""
    if isinstance(event, IntentReceived):
        sid = getattr(event.intent, "session_id", None)
        return sid if sid is not None else (st.focus or "")
    sid = getattr(event, "session_id", None)
    return sid if isinstance(sid, str) else None


def _put(st: Station, s: Session) -> Station:
    if s.phase is Phase.CLOSED:
        sessions = tuple(x for x in st.sessions if x.session_id != s.session_id)
        focus = None if st.focus == s.session_id else st.focus
        return replace(st, sessions=sessions, focus=focus)
    sessions = tuple(s if x.session_id == s.session_id else x for x in st.sessions)
    return replace(st, sessions=sessions)


def _choose(st: Station, e: ConnectorChosen) -> tuple[Station, list[Command]]:
    existing = st.session_on(e.connector_id)
    if existing is not None and existing.phase in _ENDED:
        # The last driver's receipt (its money is final): make room for the next driver.
        st = _put(st, replace(existing, phase=Phase.CLOSED, phase_since=e.at))
    elif existing is not None:
        return replace(st, focus=existing.session_id), []  # show the running session
    if st.session(e.session_id) is not None or not _selectable(st, e.connector_id):
        return st, []
    if st.web_paying(e.connector_id, e.at):
        return st, []  # a driver is paying for it on a phone (OCPP C25): no local start
    commands: list[Command] = []
    focused = st.session(st.focus)
    if focused is not None:
        if focused.phase in _ABANDONABLE:
            closed, commands = abandon(focused, e.at)
            st = _put(st, closed)
        elif focused.phase in _ENDED:
            st = _put(st, replace(focused, phase=Phase.CLOSED, phase_since=e.at))
        elif focused.phase not in _BACKGROUND_OK:
            return st, []  # a payment is running on the screen: finish that first
    policy = st.policy
    session = Session(
        session_id=e.session_id,
        connector_id=e.connector_id,
        phase=Phase.PRICE_SHOWN,
        offer=e.offer,
        created_at=e.at,
        phase_since=e.at,
        deadline=e.at + policy.price_confirm_timeout,
        deadline_kind=CountdownKind.PRICE_CONFIRM,
        signing=st.signing(e.connector_id),
    )
    return replace(st, sessions=(*st.sessions, session), focus=session.session_id), commands


def startable_remotely(st: Station, connector_id: str) -> bool:
    """The CSMS may start a paid session here (OCPP C25): no session on the connector."""
    return st.session_on(connector_id) is None and _selectable(st, connector_id)


def _remote_start(st: Station, e: CsmsStartRequested) -> tuple[Station, list[Command]]:
    """The CSMS's PSP holds the money: the session is authorised from the start, capped at
    the connector's hold amount, and waits for the vehicle as a paid session does."""
    if st.session(e.session_id) is not None or not startable_remotely(st, e.connector_id):
        return st, []
    offer = e.offer
    auth = Authorisation(
        method=PaymentMethod.CSMS,
        amount_minor=offer.hold_minor,
        currency=offer.currency,
        reference=e.psp_ref,
        remote_start_id=e.remote_start_id,
    )
    session = Session(
        session_id=e.session_id,
        connector_id=e.connector_id,
        phase=Phase.PRICE_SHOWN,
        offer=offer,
        created_at=e.at,
        phase_since=e.at,
        method=PaymentMethod.CSMS,
        auth=auth,
        signing=st.signing(e.connector_id),
    )
    payments = {c: t for c, t in st.web_payments.items() if c != e.connector_id}
    st = replace(st, web_payments=payments)
    session, commands = charging.authorised(session, e.at, st)
    focused = st.session(st.focus)
    focus = session.session_id if focused is None else st.focus
    return replace(st, sessions=(*st.sessions, session), focus=focus), commands


def _selectable(st: Station, connector_id: str) -> bool:
    if st.emergency or all(c.connector_id != connector_id for c in st.connectors):
        return False
    live = st.live_of(connector_id)
    return live.controller_online and live.controller_error is None and not live.iec.is_error


def _observe(st: Station, event: Event) -> Station:
    """Keep the station's picture of each connector current, before sessions see the event."""
    if isinstance(event, ControllerUpdate):
        live = _live(st, event.connector_id, event.status)
        return replace(st, live={**st.live, event.connector_id: live})
    if isinstance(event, ControllerFailed):
        old = st.live_of(event.connector_id)
        live = replace(old, controller_online=False, controller_error=event.reason)
        return replace(st, live={**st.live, event.connector_id: live})
    if isinstance(event, MeterUpdate):
        old = st.live_of(event.connector_id)
        live = replace(old, meter_online=True, meter_error=None, reading=event.reading)
        return replace(st, live={**st.live, event.connector_id: live})
    if isinstance(event, MeterFailed):
        old = st.live_of(event.connector_id)
        live = replace(old, meter_online=False, meter_error=event.reason or "no answer")
        return replace(st, live={**st.live, event.connector_id: live})
    if isinstance(event, EmergencyStop):
        return replace(st, emergency=True)
    if isinstance(event, EmergencyCleared):
        return replace(st, emergency=False)
    if isinstance(event, WebPaymentStarted):
        payments = {c: t for c, t in st.web_payments.items() if c != event.connector_id}
        if event.until > event.at:
            payments[event.connector_id] = event.until
        return replace(st, web_payments=payments)
    if isinstance(event, Tick) and any(t <= event.at for t in st.web_payments.values()):
        return replace(st, web_payments={c: t for c, t in st.web_payments.items() if t > event.at})
    return st


def _live(st: Station, connector_id: str, status: ControllerStatus) -> ConnectorLive:
    old = st.live_of(connector_id)
    error = ", ".join(sorted(status.error_flags)) or None
    return replace(
        old,
        iec=status.state,
        controller_online=True,
        controller_error=error if status.state.is_error else None,
    )
