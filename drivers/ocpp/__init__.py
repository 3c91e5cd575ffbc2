"""OCPP: the station in an operator's network (the CSMS link). See docs/ocpp.md."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from drivers.ocpp.authorize import PaymentAuthorizer
from drivers.ocpp.link import CsmsLink, LinkTiming
from drivers.ocpp.reset import ResetPlan
from drivers.ocpp.tariffs import CsmsTariffs
from drivers.ocpp.variables import DeviceModel
from drivers.ocpp.web_payments import WebPayments
from kiosk.config import OcppConfig
from kiosk.journal.store import JournalError
from kiosk.runtime.core import Runtime
from kiosk.session import events as ev
from kiosk.session.names import Phase
from kiosk.snapshot import StopCharging

__all__ = ["CsmsLink", "LinkTiming", "connect_station"]


def connect_station(
    runtime: Runtime, config: OcppConfig, *, timing: LinkTiming | None = None
) -> CsmsLink:
    """Wire a (not yet started) link to a runtime before the runtime starts: from then on each
    machine step queues what the CSMS must hear, and every snapshot updates the connector
    statuses and wakes the link. Start it with `.start()`, stop it after the runtime."""
    currencies = {offer.currency for offer in runtime.offers.values()}
    tariffs = CsmsTariffs(
        runtime.journal,
        config.evse_ids,
        runtime.offers,
        runtime.replace_offers,
        now=runtime.clock.now,
        language=runtime.locales[0] if runtime.locales else "en",
    )
    tariffs.restore()  # before the first snapshot: a restart shows the CSMS's tariff at once
    link = CsmsLink(
        config,
        runtime.journal,
        timing=timing,
        on_change=runtime.republish,
        currency=min(currencies) if currencies else "EUR",
        remote_stop=partial(_remote_stop, runtime),
        tariffs=tariffs,
        running=partial(_running, runtime),
        reset=ResetPlan(
            lambda: runtime.station,
            note_reset=lambda: runtime.journal.csms_note_boot_reason("RemoteReset"),
        ),
    )
    _authorize_payments(runtime, link, config)
    link.operator = runtime.note_operator_figure  # 2.0.1 central cost, shown as the operator's
    link.on_status = runtime.note_csms_link
    link.on_limit = runtime.csms_limit  # transactionLimit.maxCost for a CSMS-paid session
    link.report()  # not connected yet: the service menu says so from the start
    feed = link.attach()
    # Per-dimension local cost (I07–I12) from the runtime's tariff engine.
    runtime.journal.csms_feed = replace(
        feed, priced=runtime.priced, remote_stopped=runtime.journal.csms_remote_stopped
    )
    runtime.subscribe(link.snapshot)
    assert link.reset is not None
    runtime.subscribe(link.reset.snapshot)
    return link


def _authorize_payments(runtime: Runtime, link: CsmsLink, config: OcppConfig) -> None:
    """PaymentCtrlr.AuthorizeDirectPayment: as kept in the journal at start, then as the CSMS
    sets it; while true, each approved payment waits for the CSMS's Authorize answer. And
    WebPaymentsCtrlr (C25): the QR code, NotifyWebPaymentStarted, CSMS-paid starts."""
    model = DeviceModel(runtime.journal, link.currency)
    runtime.set_csms_authorize(model.value(*_AUTHORIZE) == "true")
    web = WebPayments(model, runtime, config.identity, config.evse_ids)
    link.web_payments = web

    def changed(component: str, variable: str, value: str) -> None:
        if (component, variable) == _AUTHORIZE:
            runtime.set_csms_authorize(value == "true")
        web.changed(component, variable, value)

    def answer(session_id: str, status: str) -> None:
        runtime.post(ev.CsmsAuthorized(runtime.clock.now(), session_id, status))

    link.on_variable = changed
    runtime.csms_authorizer = PaymentAuthorizer(link, answer)


def _remote_stop(runtime: Runtime, transaction_id: str) -> bool:
    """RequestStopTransaction: the transaction id is the session id; stop it as the Stop
    button does, while it charges (the money then settles as for any stop)."""
    session = runtime.station.session(transaction_id)
    if session is None or session.phase not in (Phase.STARTING, Phase.CHARGING):
        return False
    try:
        runtime.journal.csms_note_remote_stop(transaction_id)  # the Ended event says Remote
    except JournalError:
        return False
    runtime.send(StopCharging(transaction_id))
    return True


_AUTHORIZE = ("PaymentCtrlr", "AuthorizeDirectPayment")


def _running(runtime: Runtime, transaction_id: str) -> str | None:
    """The connector of a transaction that is starting or charging (the session id)."""
    session = runtime.station.session(transaction_id)
    if session is None or session.phase not in (Phase.STARTING, Phase.CHARGING):
        return None
    return session.connector_id
