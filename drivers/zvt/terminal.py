"""``ZvtTerminal``: the kiosk's card terminal (``kiosk.devices.CardTerminal``) over ZVT.

Money rules this class keeps:
* every 04 0F is handed to ``persist`` before it is acknowledged (see ``protocol``), and the
  callable ``persist`` returned is called once the acknowledgement of the result and of every
  receipt of that command was sent (the terminal keeps the transaction only after that);
* after a link error a money command is never sent again before the terminal was asked what
  happened (``recovery``): the open pre-auth list (06 23 87 FFFF) and, if needed, the last
  result (06 20). What cannot be resolved is returned as ``PaymentOutcome.LINK_ERROR`` with
  what is known.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from drivers.zvt import commands, recovery, refund
from drivers.zvt.acks import acknowledged as _acknowledged
from drivers.zvt.acks import keep as _keep
from drivers.zvt.codec.apdu import Apdu
from drivers.zvt.codec.messages import Message
from drivers.zvt.command_result import failed_result, final_result, status_texts, unreachable
from drivers.zvt.config import SETTLE_MODES, ZvtConfig, open_link
from drivers.zvt.errors import LinkError, PersistFailed, TerminalRefused, WrongTerminal
from drivers.zvt.link import Clock, LinkFactory, monotonic
from drivers.zvt.mapping import card_result, end_of_day_totals, open_receipts
from drivers.zvt.protocol import (
    BoundaryHook,
    Exchange,
    ExchangeInterrupted,
    MessageHook,
    Protocol,
)
from drivers.zvt.results import classify, currency_number, terminal_status
from kiosk.devices import (
    AckSink,
    CardResult,
    EndOfDayTotals,
    OpenPreauth,
    PaymentOutcome,
    ResultSink,
    StatusTextSink,
    TerminalStatus,
)

log = logging.getLogger("drivers.zvt")

__all__ = ["SETTLE_MODES", "ZvtConfig", "ZvtTerminal", "open_link"]


class ZvtTerminal:
    """Blocking; call from the terminal's owner thread. ``abort`` may come from any thread."""

    def __init__(
        self,
        config: ZvtConfig,
        link_factory: LinkFactory | None = None,
        clock: Clock = monotonic,
    ) -> None:
        self.config = config
        self._factory = link_factory or (lambda: open_link(config))
        self._clock = clock
        self._protocol: Protocol | None = None
        self._lock = threading.RLock()
        self._card_wait = threading.Event()
        self._abort = threading.Event()
        self._currency_code = currency_number(config.currency)
        self.terminal_id: str | None = None
        self.link_errors = 0
        self.boundary_hook: BoundaryHook | None = None  # crash drills only (see protocol)
        self.message_hook: MessageHook | None = None  # crash drills only (see protocol)

    # ------------------------------------------------------------------ link
    def _session(self) -> Protocol:
        if self._protocol is None:
            link = self._factory()
            protocol = Protocol(
                link,
                self.config.timeouts,
                self._clock,
                self.config.charset,
                self.config.persist_retries,
            )
            self._protocol = protocol
            try:
                done = protocol.transact(
                    commands.registration(
                        self.config.password, self._currency_code, self.config.config_byte
                    )
                )
            except (LinkError, TerminalRefused):
                self._drop()
                raise
            if done.completion is not None:
                self._check_terminal_id(done.completion.str_field("terminal_id"))
            if done.abort is not None:
                code = done.abort.int_field("result_code") or 0
                self._drop()
                raise TerminalRefused(code, f"registration refused: {classify(code).meaning}")
        return self._protocol

    def _check_terminal_id(self, answered: str | None) -> None:
        """After every (re)connect: the same terminal, or a swapped one we must not pay on."""
        expected = self.config.terminal_id or self.terminal_id
        if answered and expected and answered != expected:
            self._drop()
            raise WrongTerminal(
                f"terminal id {answered} answered, {expected} expected: check the cabling/address"
            )
        self.terminal_id = answered or self.terminal_id

    def _drop(self) -> None:
        if self._protocol is not None:
            with contextlib.suppress(OSError):
                self._protocol.link.close()
            self._protocol = None

    def close(self) -> None:
        with self._lock:
            if self._protocol is not None:
                with contextlib.suppress(LinkError, TerminalRefused):
                    self._protocol.transact(commands.log_off(), expects_completion=False)
            self._drop()

    def _transact(
        self,
        command: Apdu,
        on_status_info: Callable[[Message], None] | None = None,
        on_intermediate: Callable[[Message], None] | None = None,
        abort: threading.Event | None = None,
    ) -> Exchange:
        protocol = self._session()
        protocol.boundary = self.boundary_hook
        protocol.on_message = self.message_hook
        try:
            return protocol.transact(command, on_status_info, on_intermediate, abort)
        except LinkError:
            self.link_errors += 1
            self._drop()
            raise

    # ------------------------------------------------------------------ queries
    def status(self) -> TerminalStatus:
        with self._lock:
            try:
                done = self._transact(commands.status_enquiry(self.config.password))
            except (LinkError, TerminalRefused) as exc:
                return TerminalStatus(False, self.terminal_id, None, f"no answer: {exc}")
            raw = done.completion.int_field("terminal_status") if done.completion else None
            if raw is None and done.abort is not None:
                raw = done.abort.int_field("result_code")
            ready, text = terminal_status(raw) if raw is not None else (False, "no status byte")
            return TerminalStatus(ready, self.terminal_id, raw, text)

    def _query_open(self) -> list[OpenPreauth]:
        done = self._transact(commands.open_preauth_enquiry())
        return open_receipts(done.abort or done.completion)

    def open_preauths(self) -> list[OpenPreauth]:
        with self._lock:
            return self._query_open()

    # ------------------------------------------------------------------ money
    def preauthorise(
        self,
        amount_minor: int,
        currency: str,
        reference: str,
        persist: ResultSink,
        on_text: StatusTextSink,
    ) -> CardResult:
        code = currency_number(currency)
        command = commands.preauthorisation(amount_minor, code, reference)
        self._abort.clear()
        self._card_wait.set()  # from here on, an abort is remembered and sent when allowed
        with self._lock:
            before: set[int] | None = None
            try:
                if self.config.snapshot_before_preauth:
                    before = {p.receipt_no for p in self._query_open()}
            except (LinkError, TerminalRefused) as exc:  # nothing sent yet: safe to retry
                self._card_wait.clear()
                return unreachable(exc, currency, reference)

            acks: list[AckSink] = []

            def store(message: Message) -> None:
                _keep(acks, persist(card_result(message, currency, reference, [])))

            try:
                done = self._transact(command, store, status_texts(on_text), self._abort)
            except ExchangeInterrupted as exc:
                return recovery.recover_preauth(
                    self,
                    exc.partial,
                    before,
                    amount_minor,
                    currency,
                    reference=reference,
                    persist=persist,
                )
            except (LinkError, PersistFailed, TerminalRefused) as exc:
                # LinkError: could not (re)connect, the 06 22 never left; PersistFailed: refused
                # to the terminal, which reverses it.
                return failed_result(exc, currency, reference)
            finally:
                self._card_wait.clear()
                self._abort.clear()
            _acknowledged(acks)
            return final_result(done, amount_minor, currency, reference)

    def settle(self, auth: CardResult, final_minor: int, persist: ResultSink) -> CardResult:
        if auth.receipt_no is None:
            raise ValueError("settle: the authorisation has no receipt number")
        if not 0 <= final_minor <= auth.amount_minor:
            raise ValueError(
                f"settle: final amount {final_minor} is outside 0..{auth.amount_minor}"
            )
        code = currency_number(auth.currency)
        no_reversal = auth.card_brand in self.config.no_preauth_reversal_brands
        if final_minor == 0 and not no_reversal:
            command = commands.preauth_reversal(auth.receipt_no, code)
        elif self.config.settle_mode == "book_total" and final_minor > 0:
            command = commands.book_total(auth.receipt_no, final_minor, code)
        else:  # also final 0 for cards without 06 25: release the whole amount
            command = commands.partial_reversal(
                auth.receipt_no, auth.amount_minor - final_minor, code
            )

        acks: list[AckSink] = []

        def store(message: Message) -> None:
            _keep(acks, persist(card_result(message, auth.currency, auth.reference, [])))

        with self._lock:
            try:
                done = self._transact(command, on_status_info=store)
            except ExchangeInterrupted as exc:
                return recovery.recover_settle(self, exc.partial, auth, persist)
            except (LinkError, PersistFailed, TerminalRefused) as exc:
                # LinkError: could not (re)connect, the hold is untouched.
                return failed_result(exc, auth.currency, auth.reference, auth.receipt_no)
            _acknowledged(acks)
            result = final_result(done, final_minor, auth.currency, auth.reference)
            if result.card_brand is None:
                result = replace(result, card_brand=auth.card_brand, masked_pan=auth.masked_pan)
            return result

    def refund(
        self,
        amount_minor: int,
        currency: str,
        reference: str,
        persist: ResultSink,
        on_text: StatusTextSink,
    ) -> CardResult:
        """06 31: pay `amount_minor` back to the card the customer presents (drivers.zvt.refund).
        The result is persisted before the terminal gets its acknowledgement."""
        return refund.refund(
            self,
            amount_minor,
            currency=currency,
            reference=reference,
            persist=persist,
            on_text=on_text,
        )

    def last_result(self, currency: str) -> CardResult | None:
        """The last result the terminal kept (06 20), for recovery to compare; not persisted."""
        return refund.last_result(self, currency)

    def abort(self) -> None:
        if self._card_wait.is_set():
            self._abort.set()

    def end_of_day(self) -> EndOfDayTotals:
        currency = self.config.currency
        with self._lock:
            try:
                done = self._transact(commands.end_of_day(self.config.password))
            except (LinkError, TerminalRefused) as exc:
                code = exc.code if isinstance(exc, TerminalRefused) else None
                return EndOfDayTotals(
                    PaymentOutcome.LINK_ERROR if code is None else PaymentOutcome.ERROR,
                    0,
                    currency,
                    raw_result_code=code,
                )
        return end_of_day_totals(done, currency)
