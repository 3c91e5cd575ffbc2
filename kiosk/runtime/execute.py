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
from dataclasses import dataclass
from datetime import datetime

from kiosk.devices import (
    BackendError,
    CardResult,
    DeviceError,
    LinkStatus,
    PaymentOutcome,
)
from kiosk.journal.store import Journal, JournalError
from kiosk.runtime.devices import StationDevices
from kiosk.runtime.owner import DeviceOwner
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

log = logging.getLogger(__name__)


def _unknown(amount: int, currency: str, why: str) -> CardResult:
    log.warning("card terminal: outcome unknown (%s)", why)
    return CardResult(PaymentOutcome.LINK_ERROR, amount, currency)


@dataclass(frozen=True, slots=True)
class ExecutorParts:
    """What carrying out commands needs of the runtime."""

    journal: Journal
    devices: StationDevices
    now: Callable[[], datetime]
    post: Callable[[ev.Event], None]
    owner_for: Callable[[Command], DeviceOwner | None]
    journal_done: Callable[[int, str], None]  # the command's id and what was done
    sweep_orphans: Callable[[], None]
    note_backend: Callable[[bool], None]  # online or not
    watch_link: Callable[[str, str], None]  # session id, link id
    unwatch_link: Callable[[str], None]
    wake_outbox: Callable[[], None]
    signed_job: Callable[[BeginSignedTransaction | EndSignedTransaction], Callable[[], None]]


class Executor:
    def __init__(self, parts: ExecutorParts) -> None:
        self.parts = parts

    def dispatch(self, command: Command, command_id: int) -> None:
        parts = self.parts
        job = self._job(command)
        if job is None:
            return
        if isinstance(command, AbortCard):
            # The pre-auth blocks the terminal's owner; abort is the one call made beside it.
            threading.Thread(target=job, name="terminal-abort", daemon=True).start()
            return
        owner = parts.owner_for(command)
        if owner is None:
            log.error("no device for %s", type(command).__name__)
            return

        def run() -> None:
            job()
            if command_id:
                parts.journal_done(command_id, type(command).__name__)

        owner.submit(run)

    def _job(self, command: Command) -> Callable[[], None] | None:
        parts = self.parts
        devices = parts.devices
        post, now = parts.post, parts.now
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
                        parts.journal.result_sink(sid, "preauth"),
                        lambda text: post(ev.TerminalText(now(), sid, text)),
                    )
                except (DeviceError, OSError) as exc:
                    result = _unknown(c.amount_minor, c.currency, str(exc))
                post(ev.PreauthDone(now(), sid, result))
                if result.outcome is PaymentOutcome.LINK_ERROR:
                    parts.sweep_orphans()  # a hold may exist that nobody knows: reverse it

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
                persist = parts.journal.result_sink(sid, "settle")
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
                parts.note_backend(True)  # the backend answers: queued reports go now
                post(ev.LinkCreated(now(), cl.session_id, link))
                if link.status is LinkStatus.PENDING:
                    parts.watch_link(cl.session_id, link.id)
                else:
                    post(ev.LinkUpdated(now(), cl.session_id, link))

            return create if backend is not None else None
        if isinstance(command, CancelPaymentLink):
            backend = devices.backend
            cc = command

            def cancel() -> None:
                assert backend is not None
                parts.unwatch_link(cc.link_id)
                try:
                    backend.cancel_payment_link(cc.link_id)
                except (BackendError, OSError) as exc:
                    # The link may have been paid while the backend was out of reach: the
                    # outbox cancels it when the backend answers again, which releases the
                    # hold at once (else the backend releases it after its hold time).
                    log.warning("backend: cancelling link %s failed (%s); queued", cc.link_id, exc)
                    parts.note_backend(False)
                    try:
                        parts.journal.outbox_add(
                            "link_cancel", f"link_cancel:{cc.link_id}", {"link_id": cc.link_id}
                        )
                    except JournalError as journal_exc:
                        log.error("%s", journal_exc)
                    parts.wake_outbox()

            return cancel if backend is not None else None
        if isinstance(command, BeginSignedTransaction | EndSignedTransaction):
            return parts.signed_job(command)
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
