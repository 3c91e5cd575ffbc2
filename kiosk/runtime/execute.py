"""Carry out the machine's commands on the device owner threads; results become events.

Money commands hand the driver a `persist` sink that writes the terminal's answer to the
journal before the driver acknowledges it (and marks it acknowledged after). A device that fails
is reported as an event with an unknown or failed outcome, never retried here: the machine
decides what happens next.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.devices import (
    BackendError,
    CardResult,
    DeviceError,
    LinkStatus,
    PaymentOutcome,
)
from kiosk.journal.store import JournalError
from kiosk.session import events as ev
from kiosk.session.commands import (
    AbortCard,
    BeginSignedTransaction,
    CancelPaymentLink,
    Command,
    CreatePaymentLink,
    DisableCharging,
    EnableCharging,
    EndSignedTransaction,
    PreauthoriseCard,
    QueryOpenPreauths,
    SettleCard,
)

if TYPE_CHECKING:
    from kiosk.runtime.core import Runtime

log = logging.getLogger(__name__)


def _unknown(amount: int, currency: str, why: str) -> CardResult:
    log.warning("card terminal: outcome unknown (%s)", why)
    return CardResult(PaymentOutcome.LINK_ERROR, amount, currency)


class Executor:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def dispatch(self, command: Command, command_id: int) -> None:
        rt = self.rt
        job = self._job(command)
        if job is None:
            return
        if isinstance(command, AbortCard):
            # The pre-auth blocks the terminal's owner; abort is the one call made beside it.
            threading.Thread(target=job, name="terminal-abort", daemon=True).start()
            return
        owner = rt.owner_for(command)
        if owner is None:
            log.error("no device for %s", type(command).__name__)
            return

        def run() -> None:
            job()
            if command_id:
                rt.journal_done(command_id, type(command).__name__)

        owner.submit(run)

    def _job(self, command: Command) -> Callable[[], None] | None:
        rt = self.rt
        devices = rt.devices
        post, now = rt.post, rt.clock.now
        if isinstance(command, PreauthoriseCard):
            terminal = devices.terminal
            c = command

            def preauthorise() -> None:
                assert terminal is not None
                sid = c.session_id
                try:
                    result = terminal.preauthorise(
                        c.amount_minor,
                        c.currency,
                        c.reference,
                        rt.journal.result_sink(sid, "preauth"),
                        lambda text: post(ev.TerminalText(now(), sid, text)),
                    )
                except (DeviceError, OSError) as exc:
                    result = _unknown(c.amount_minor, c.currency, str(exc))
                post(ev.PreauthDone(now(), sid, result))
                if result.outcome is PaymentOutcome.LINK_ERROR:
                    rt.sweep_orphans()  # a hold may exist that nobody knows: reverse it

            return preauthorise if terminal is not None else None
        if isinstance(command, AbortCard):
            terminal = devices.terminal

            def abort() -> None:
                assert terminal is not None
                try:
                    terminal.abort()
                except (DeviceError, OSError) as exc:
                    log.warning("card terminal: abort failed (%s)", exc)

            return abort if terminal is not None else None
        if isinstance(command, SettleCard):
            terminal = devices.terminal
            s = command

            def settle() -> None:
                assert terminal is not None
                sid = s.session_id
                persist = rt.journal.result_sink(sid, "settle")
                try:
                    result = terminal.settle(s.auth.to_card_result(), s.final_minor, persist)
                except (DeviceError, OSError) as exc:
                    result = _unknown(s.final_minor, s.auth.currency, str(exc))
                post(ev.SettleDone(now(), sid, result))

            return settle if terminal is not None else None
        if isinstance(command, QueryOpenPreauths):
            terminal = devices.terminal
            q = command

            def query() -> None:
                assert terminal is not None
                receipts: frozenset[int] | None
                try:
                    receipts = frozenset(p.receipt_no for p in terminal.open_preauths())
                except (DeviceError, OSError) as exc:
                    log.warning("card terminal: open pre-auths unknown (%s)", exc)
                    receipts = None
                post(ev.OpenPreauthsChecked(now(), q.session_id, receipts))

            return query if terminal is not None else None
        if isinstance(command, CreatePaymentLink):
            backend = devices.backend
            cl = command

            def create() -> None:
                assert backend is not None
                try:
                    link = backend.create_payment_link(
                        cl.connector_id,
                        cl.amount_minor,
                        cl.currency,
                        {"tariff_json": cl.tariff_json},
                        cl.idempotency_key,
                    )
                except (BackendError, OSError) as exc:
                    post(ev.LinkFailed(now(), cl.session_id, str(exc)))
                    return
                rt.note_backend(online=True)  # the backend answers: queued reports go now
                post(ev.LinkCreated(now(), cl.session_id, link))
                if link.status is LinkStatus.PENDING:
                    rt.watch_link(cl.session_id, link.id)
                else:
                    post(ev.LinkUpdated(now(), cl.session_id, link))

            return create if backend is not None else None
        if isinstance(command, CancelPaymentLink):
            backend = devices.backend
            cc = command

            def cancel() -> None:
                assert backend is not None
                rt.unwatch_link(cc.link_id)
                try:
                    backend.cancel_payment_link(cc.link_id)
                except (BackendError, OSError) as exc:
                    # The link may have been paid while the backend was out of reach: the
                    # outbox cancels it when the backend answers again, which releases the
                    # hold at once (else the backend releases it after its hold time).
                    log.warning("backend: cancelling link %s failed (%s); queued", cc.link_id, exc)
                    rt.note_backend(online=False)
                    try:
                        rt.journal.outbox_add(
                            "link_cancel", f"link_cancel:{cc.link_id}", {"link_id": cc.link_id}
                        )
                    except JournalError as journal_exc:
                        log.error("%s", journal_exc)
                    if rt.outbox is not None:
                        rt.outbox.wake()

            return cancel if backend is not None else None
        if isinstance(command, BeginSignedTransaction | EndSignedTransaction):
            return rt.signed.job(command)
        if isinstance(command, EnableCharging | DisableCharging):
            controller = devices.controllers.get(command.connector_id)
            enable = isinstance(command, EnableCharging)
            sw = command

            def switch() -> None:
                assert controller is not None
                try:
                    controller.enable_charging(enable)
                    ok, reason = True, ""
                except (DeviceError, OSError) as exc:
                    ok, reason = False, str(exc)
                post(ev.ChargingSwitched(now(), sw.connector_id, sw.session_id, enable, ok, reason))

            return switch if controller is not None else None
        return None  # BeginMetering and CloseSession are done by the runtime and the journal
