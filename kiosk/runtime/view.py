"""From the machine's state to the immutable snapshot a screen renders."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from kiosk.session.common import booked_lines, idle_timeout
from kiosk.session.model import Offer, Policy, Session, Station
from kiosk.session.names import Phase
from kiosk.snapshot import (
    Amount,
    ConnectorStatus,
    ConnectorTile,
    Countdown,
    CountdownKind,
    FailureView,
    LiveValues,
    PaymentLinkView,
    PriceNow,
    Receipt,
    ReportingStatus,
    SessionView,
    SigningMeterView,
    StationSnapshot,
    VatLine,
)

_CHOOSING = frozenset({Phase.PRICE_SHOWN, Phase.CHOOSING_PAYMENT})
_PREPARING = frozenset(
    {
        Phase.PRICE_SHOWN,
        Phase.CHOOSING_PAYMENT,
        Phase.PAYING_CARD,
        Phase.PAYING_QR,
        Phase.WAITING_FOR_PLUG,
        Phase.STARTING,
    }
)


def build_snapshot(
    *,
    seq: int,
    now: datetime,
    st: Station,
    name: str,
    locales: tuple[str, ...],
    offers: Mapping[str, Offer],
    notice: str | None,
    terminal_ready: bool,
    qr_available: bool,
    reporting: ReportingStatus | None = None,
    receipt_url: Callable[[str], str | None] | None = None,
    prices: Mapping[str, PriceNow] | None = None,
    signing_meters: tuple[SigningMeterView, ...] = (),
) -> StationSnapshot:
    focus = st.session(st.focus)
    prices = prices or {}
    return StationSnapshot(
        seq=seq,
        published_at=now,
        station_name=name,
        locales=locales,
        phase=focus.phase if focus is not None else Phase.IDLE,
        connectors=tuple(_tile(st, c.connector_id, prices, now) for c in st.connectors),
        focus=None
        if focus is None
        else session_view(focus, st.policy, receipt_url, prices.get(focus.connector_id)),
        background=tuple(
            session_view(s, st.policy, receipt_url, prices.get(s.connector_id))
            for s in st.sessions
            if s.session_id != st.focus
        ),
        terminal_ready=terminal_ready,
        qr_available=qr_available,
        notice=notice,
        reporting=reporting,
        signing_meters=signing_meters,
    )


def _tile(
    st: Station, connector_id: str, prices: Mapping[str, PriceNow], now: datetime
) -> ConnectorTile:
    conf = next(c for c in st.connectors if c.connector_id == connector_id)
    live = st.live_of(connector_id)
    session = st.session_on(connector_id)
    reason: str | None = None
    code: str | None = None
    if st.emergency:
        status, reason, code = ConnectorStatus.UNAVAILABLE, "Emergency stop", "emergency_stop"
    elif not live.controller_online and live.controller_error is None:
        # not heard from yet (the station is starting): the screen says "connecting…"
        status, code = ConnectorStatus.UNAVAILABLE, "connecting"
        reason = "Connecting to the charge controller"
    elif not live.controller_online:
        status, code = ConnectorStatus.UNAVAILABLE, "controller_offline"
        reason = live.controller_error or "The charge controller does not answer"
    elif live.iec.is_error or live.controller_error:
        status, code = ConnectorStatus.FAULTED, "connector_fault"
        reason = live.controller_error or "Connector fault"
    elif live.meter_error is not None and session is None:
        # No session can start without its readings (a running one stops on its own).
        status, code = ConnectorStatus.UNAVAILABLE, "meter_offline"
        reason = f"Energy meter: {live.meter_error}"
    elif session is not None:
        if session.phase in _PREPARING:
            status = ConnectorStatus.PREPARING
        elif session.phase is Phase.CHARGING:
            suspended = session.suspended_since is not None
            status = ConnectorStatus.SUSPENDED_EV if suspended else ConnectorStatus.CHARGING
        else:
            status = ConnectorStatus.FINISHING
    elif live.iec.vehicle_connected:
        status = ConnectorStatus.OCCUPIED
    else:
        status = ConnectorStatus.AVAILABLE
    return ConnectorTile(
        connector_id=connector_id,
        label=conf.label or connector_id,
        connector_type=conf.connector_type,
        max_kw=Decimal(conf.max_kw),
        status=status,
        price=prices.get(connector_id),
        status_reason=reason,
        session_id=None if session is None else session.session_id,
        labels=conf.labels,
        reason_code=code,
        web_paying_until=st.web_payments.get(connector_id)
        if session is None and st.web_paying(connector_id, now)
        else None,
    )


def session_view(
    s: Session,
    policy: Policy,
    receipt_url: Callable[[str], str | None] | None = None,
    price_now: PriceNow | None = None,
) -> SessionView:
    currency = s.offer.currency
    hold = s.auth.amount_minor if s.auth is not None else s.offer.hold_minor
    live = None
    if s.started_at is not None and s.last_reading is not None and s.meter_start is not None:
        live = LiveValues(
            energy_wh=s.energy_wh,
            power_w=s.last_reading.power_w,
            started_at=s.started_at,
            measured_at=s.last_reading.measured_at,
            cost=Amount(s.cost_minor, currency),
            informative=s.signing,
        )
    link = None
    if s.link_url is not None and s.link_expires_at is not None:
        link = PaymentLinkView(s.link_url, s.link_expires_at)
    countdowns: tuple[Countdown, ...] = ()
    if s.deadline is not None and s.deadline_kind is not None:
        extendable = s.extensions < policy.max_extensions and (
            s.deadline_kind is CountdownKind.PLUG_IN
            or idle_timeout(s.deadline_kind, policy) is not None
        )
        countdowns = (Countdown(s.deadline_kind, s.deadline, extendable),)
    failure = None
    if s.failure is not None:
        failure = FailureView(s.failure, s.failure.text, s.money)
    return SessionView(
        session_id=s.session_id,
        connector_id=s.connector_id,
        phase=s.phase,
        price_lines=s.offer.price_lines,
        price_now=price_now if s.phase in _CHOOSING and _prices_offer(price_now, s) else None,
        alt_text=s.offer.alt_text,
        hold=Amount(hold, currency),
        method=s.method,
        terminal_text=s.terminal_text,
        payment_link=link,
        live=live,
        stop_reason=s.stop_reason,
        failure=failure,
        receipt=receipt(s, receipt_url) if s.phase is Phase.RECEIPT else None,
        countdowns=countdowns,
        operator_checking=s.csms_auth == "Pending",
    )


def _prices_offer(now: PriceNow | None, s: Session) -> bool:
    """The connector's price now is about the offer the session froze: not when the tariff
    changed since the driver chose the connector (a CSMS set another one)."""
    if now is None:
        return True
    frozen = set(s.offer.price_lines)
    return frozen.issuperset(now.lines) and frozen.issuperset(now.next_lines)


def receipt(s: Session, receipt_url: Callable[[str], str | None] | None = None) -> Receipt | None:
    auth, settlement = s.auth, s.settlement
    if auth is None or settlement is None or s.started_at is None:
        return None
    currency = s.offer.currency
    total = settlement.final_minor
    vat_lines: tuple[VatLine, ...] = ()
    net = total
    rate = s.offer.vat_percent
    if rate is not None:
        # The VAT contained in the booked (gross) amount; net + VAT == total by construction.
        net = int((Decimal(total) * 100 / (100 + rate)).quantize(Decimal(1), ROUND_HALF_UP))
        vat_lines = (VatLine(rate, Amount(net, currency), Amount(total - net, currency)),)
    return Receipt(
        session_id=s.session_id,
        connector_id=s.connector_id,
        energy_wh=s.energy_wh,
        started_at=s.started_at,
        ended_at=s.ended_at or s.phase_since,
        total=Amount(total, currency),
        net=Amount(net, currency),
        vat_lines=vat_lines,
        hold=Amount(auth.amount_minor, currency),
        method=auth.method,
        money=s.money,
        stop_reason=s.stop_reason,
        card_brand=auth.card_brand,
        masked_pan=auth.masked_pan,
        terminal_id=auth.terminal_id,
        # The number of the driver's card payment: the pre-authorisation's, which the booking
        # refers to (the booking gets the terminal's next number: 2 for the first session).
        receipt_no=auth.receipt_no or settlement.receipt_no,
        trace_no=settlement.trace_no or auth.trace_no,
        receipt_url=None if receipt_url is None else receipt_url(s.session_id),
        meter_start_wh=None if s.meter_start is None else s.meter_start.energy_import_wh,
        meter_end_wh=None if s.last_reading is None else s.last_reading.energy_import_wh,
        cost_lines=booked_lines(s, total),
    )
