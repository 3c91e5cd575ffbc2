"""Before the hold: price confirmation, card pre-authorisation, payment link."""

from __future__ import annotations

from dataclasses import replace

from kiosk.devices import LinkStatus, PaymentOutcome
from kiosk.session import charging
from kiosk.session.commands import (
    AbortCard,
    CancelPaymentLink,
    Command,
    CreatePaymentLink,
    PreauthoriseCard,
)
from kiosk.session.common import Step, abandon, due, enter, fail_unpaid, settle
from kiosk.session.events import (
    Event,
    IntentReceived,
    LinkCreated,
    LinkFailed,
    LinkUpdated,
    PreauthDone,
    TerminalText,
    Tick,
)
from kiosk.session.model import Authorisation, Session, Station
from kiosk.session.names import FailureReason, PaymentMethod, Phase, StopReason
from kiosk.snapshot import BackToStart, Cancel, ConfirmPrice, CountdownKind, PayByCard, PayByQr

_CARD_FAILURE = {
    PaymentOutcome.DECLINED: FailureReason.CARD_DECLINED,
    PaymentOutcome.PIN_REQUIRED: FailureReason.CARD_PIN_REQUIRED,
    PaymentOutcome.CARD_UNREADABLE: FailureReason.CARD_UNREADABLE,
    PaymentOutcome.CANCELLED: FailureReason.CARD_CANCELLED,
    PaymentOutcome.TIMEOUT: FailureReason.CARD_TIMEOUT,
    PaymentOutcome.TERMINAL_BUSY: FailureReason.TERMINAL_UNAVAILABLE,
    PaymentOutcome.LINK_ERROR: FailureReason.TERMINAL_UNAVAILABLE,
    PaymentOutcome.ERROR: FailureReason.TERMINAL_UNAVAILABLE,
}


def on_price_shown(s: Session, e: Event, st: Station) -> Step:
    if isinstance(e, IntentReceived):
        if isinstance(e.intent, ConfirmPrice):
            policy = st.policy
            kind = CountdownKind.PRICE_CONFIRM
            return enter(s, Phase.CHOOSING_PAYMENT, e.at, policy.price_confirm_timeout, kind), []
        if isinstance(e.intent, Cancel | BackToStart):
            return abandon(s, e.at)
    if isinstance(e, Tick) and due(s, e.at):
        return abandon(s, e.at)
    return s, []


def on_choosing_payment(s: Session, e: Event, st: Station) -> Step:
    policy = st.policy
    if isinstance(e, IntentReceived):
        intent = e.intent
        if isinstance(intent, PayByCard):
            paying = replace(
                enter(
                    s, Phase.PAYING_CARD, e.at, policy.card_wait_timeout, CountdownKind.CARD_WAIT
                ),
                method=PaymentMethod.CARD,
            )
            offer = s.offer
            return paying, [
                PreauthoriseCard(s.session_id, offer.hold_minor, offer.currency, s.session_id)
            ]
        if isinstance(intent, PayByQr):
            # Until the link exists, the card-wait timeout guards against a backend that hangs.
            paying = replace(
                enter(
                    s, Phase.PAYING_QR, e.at, policy.card_wait_timeout, CountdownKind.PAYMENT_LINK
                ),
                method=PaymentMethod.QR,
            )
            offer = s.offer
            return paying, [
                CreatePaymentLink(
                    s.session_id,
                    s.connector_id,
                    offer.hold_minor,
                    offer.currency,
                    offer.tariff_json,
                    f"{s.session_id}:link",
                )
            ]
        if isinstance(intent, Cancel | BackToStart):
            return abandon(s, e.at)
    if isinstance(e, Tick) and due(s, e.at):
        return abandon(s, e.at)
    return s, []


def on_paying_card(s: Session, e: Event, st: Station) -> Step:
    if isinstance(e, TerminalText):
        return replace(s, terminal_text=e.text), []
    if isinstance(e, PreauthDone):
        result = e.result
        if result.outcome is PaymentOutcome.APPROVED and result.amount_minor > 0:
            auth = Authorisation.from_card(result)
            s = replace(s, auth=auth, terminal_text=None)
            if s.abort_requested:
                # Approved while the driver was cancelling: release it straight away.
                s = replace(s, stop_reason=StopReason.CANCELLED)
                return settle(s, e.at, st.policy)
            return charging.authorised(s, e.at, st)
        if result.outcome is PaymentOutcome.APPROVED:
            reason = FailureReason.CARD_DECLINED  # "approved" for nothing reserves nothing
        else:
            reason = _CARD_FAILURE.get(result.outcome, FailureReason.TERMINAL_UNAVAILABLE)
        if s.abort_requested and result.outcome is PaymentOutcome.CANCELLED:
            reason = FailureReason.CANCELLED_BY_DRIVER
        return fail_unpaid(s, e.at, reason, st.policy)
    wants_abort = (isinstance(e, IntentReceived) and isinstance(e.intent, Cancel)) or (
        isinstance(e, Tick) and due(s, e.at)
    )
    if wants_abort and not s.abort_requested:
        return replace(s, abort_requested=True), [AbortCard(s.session_id)]
    return s, []


def on_paying_qr(s: Session, e: Event, st: Station) -> Step:
    policy = st.policy
    if isinstance(e, LinkCreated):
        link = e.link
        s = replace(
            s,
            link_id=link.id,
            link_url=link.url,
            link_expires_at=link.expires_at,
            deadline=link.expires_at + policy.link_grace,
            deadline_kind=CountdownKind.PAYMENT_LINK,
        )
        return s, []
    if isinstance(e, LinkFailed):
        return fail_unpaid(s, e.at, FailureReason.LINK_FAILED, policy)
    if isinstance(e, LinkUpdated):
        link = e.link
        if link.status is LinkStatus.AUTHORIZED:
            auth = Authorisation(
                method=PaymentMethod.QR,
                amount_minor=link.amount_minor,
                currency=link.currency,
                link_id=link.id,
                reference=s.session_id,
            )
            return charging.authorised(replace(s, auth=auth, link_id=link.id), e.at, st)
        if link.status is LinkStatus.EXPIRED:
            return fail_unpaid(s, e.at, FailureReason.LINK_EXPIRED, policy)
        if link.status is LinkStatus.CANCELLED:
            return fail_unpaid(s, e.at, FailureReason.CANCELLED_BY_DRIVER, policy)
        return s, []
    cancel = isinstance(e, IntentReceived) and isinstance(e.intent, Cancel)
    if cancel or (isinstance(e, Tick) and due(s, e.at)):
        reason = FailureReason.CANCELLED_BY_DRIVER if cancel else FailureReason.LINK_EXPIRED
        failed, commands = fail_unpaid(s, e.at, reason, policy)
        extra: list[Command] = []
        if s.link_id is not None:
            extra.append(CancelPaymentLink(s.session_id, s.link_id))
        return failed, extra + commands
    return s, []
