"""One command exchange with the terminal: the master/slave handover and its timers.

The kiosk sends a command and waits T3 for ``80 00`` (``84 xx`` refuses it). The terminal is
then master: it sends intermediate status (04 FF), results (04 0F), print lines and text
blocks (06 D1 / 06 D3) in any order, and ends with Completion (06 0F) or Abort (06 1E). Every
one of these gets ``80 00 00``; T4 runs from ``80 00`` to the end and restarts with every
04 FF / 04 0F. A 04 0F is acknowledged only after ``on_status_info`` returned: if it raises,
the kiosk asks for the result again (``84 9C``) and finally refuses it, which makes the
terminal reverse the transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.zvt.codec.apdu import Apdu, decode_apdu
from drivers.zvt.codec.messages import Message, decode_message
from drivers.zvt.codec.redact import redacted
from drivers.zvt.commands import abort as abort_command
from drivers.zvt.errors import (
    LinkError,
    LinkTimeout,
    PersistFailed,
    TerminalRefused,
    ZvtDecodeError,
)
from drivers.zvt.link import Clock, Link, Timeouts, monotonic
from drivers.zvt.results import CARD_WAIT_STATES, classify

log = logging.getLogger("drivers.zvt")

ACK = Apdu(0x80, 0x00)
REPEAT_STATUS = Apdu(0x84, 0x9C)  # "send the Status-Information again"
REFUSE_STATUS = Apdu(0x84, 0x66)  # any 84 xx other than 00/9C: the PT reverses the payment
PT_MESSAGES = {(0x04, 0x0F), (0x04, 0xFF), (0x06, 0xD1), (0x06, 0xD3), (0x06, 0x0F), (0x06, 0x1E)}

# Crash drills, two granularities, both set on the terminal (None in production):
# - a BoundaryHook is called as (boundary, command of the exchange, e.g. "06 24"):
#   "command_sent": the command left; "result_stored": a 04 0F was handed to the sink (journaled)
#   and is not acknowledged yet; "ack_sent": its 80 00 00 left.
# - a MessageHook is called for every APDU: ("send" | "sent", APDU) around each one the kiosk
#   sends and ("received", APDU) after each one decoded.
BoundaryHook = Callable[[str, str], None]
MessageHook = Callable[[str, Apdu], None]


def describe(apdu: bytes | Apdu) -> str:
    """An APDU for the log: redacted hex (pasteable into ``evkiosk zvt decode``) and its
    decoded, masked fields; never raw card data or the password."""
    try:
        parsed = apdu if isinstance(apdu, Apdu) else decode_apdu(apdu)
        return f"{redacted(parsed).hex(' ').upper()} {decode_message(parsed).to_json()}"
    except ZvtDecodeError as exc:
        head = apdu.command if isinstance(apdu, Apdu) else apdu[:2].hex(" ").upper()
        return f"{head} (undecodable: {exc})"


@dataclass
class Exchange:
    """Everything the terminal sent for one command."""

    command: Apdu
    status_infos: list[Message] = field(default_factory=list)
    acknowledged: list[Message] = field(default_factory=list)  # 04 0F that got 80 00 00
    intermediate: list[Message] = field(default_factory=list)
    receipt_lines: list[str] = field(default_factory=list)
    completion: Message | None = None
    abort: Message | None = None
    abort_sent: bool = False
    persist_retries_used: int = 0
    persist_error: Exception | None = None

    @property
    def finished(self) -> bool:
        return self.completion is not None or self.abort is not None


class ExchangeInterrupted(LinkError):
    """The link failed mid-exchange; ``partial`` holds what had arrived."""

    def __init__(self, message: str, partial: Exchange) -> None:
        super().__init__(message)
        self.partial = partial


class Protocol:
    def __init__(
        self,
        link: Link,
        timeouts: Timeouts | None = None,
        clock: Clock = monotonic,
        charset: str = "cp437",
        persist_retries: int = 1,
    ) -> None:
        self.link = link
        self.timeouts = timeouts or Timeouts()
        self.clock = clock
        self.charset = charset
        self.persist_retries = persist_retries
        self.boundary: BoundaryHook | None = None
        self.on_message: MessageHook | None = None

    def _at(self, boundary: str, exchange: Exchange) -> None:
        if self.boundary is not None:
            self.boundary(boundary, exchange.command.command)

    def _send(self, apdu: Apdu) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("ECR → PT %s", describe(apdu))
        self._boundary("send", apdu)
        self.link.send(apdu.encode())
        self._boundary("sent", apdu)

    def _boundary(self, when: str, apdu: Apdu) -> None:
        if self.on_message is not None:
            self.on_message(when, apdu)

    def _receive(self, timeout: float) -> Message | None:
        raw = self.link.receive(timeout)
        if raw is None:
            return None
        message = decode_message(decode_apdu(raw), self.charset)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("PT → ECR %s", describe(message.apdu))
        self._boundary("received", message.apdu)
        return message

    def transact(
        self,
        command: Apdu,
        on_status_info: Callable[[Message], None] | None = None,
        on_intermediate: Callable[[Message], None] | None = None,
        abort: threading.Event | None = None,
        expects_completion: bool = True,
    ) -> Exchange:
        """Run ``command`` to its end. ``abort``, once set, sends 06 B0 while a card is awaited."""
        exchange = Exchange(command)
        try:
            self._send(command)
            self._at("command_sent", exchange)
            self._await_response(exchange)
            if expects_completion:
                self._run_master_phase(exchange, on_status_info, on_intermediate, abort)
        except ZvtDecodeError as exc:
            raise ExchangeInterrupted(
                f"{command.command}: malformed reply ({exc})", exchange
            ) from exc
        except LinkError as exc:
            if isinstance(exc, ExchangeInterrupted):
                raise
            raise ExchangeInterrupted(f"{command.command}: {exc}", exchange) from exc
        failed = exchange.persist_error
        if failed is not None:
            raise PersistFailed(
                f"result not stored, terminal told to reverse: {failed}"
            ) from failed
        return exchange

    def _await_response(self, exchange: Exchange) -> None:
        deadline = self.clock() + self.timeouts.t3
        while True:
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise LinkTimeout(f"T3: no 80 00 within {self.timeouts.t3:g} s")
            message = self._receive(remaining)
            if message is None:
                continue
            if message.apdu.cls == 0x80 or message.apdu.control == (0x84, 0x00):
                return
            if message.apdu.cls == 0x84:
                info = classify(message.apdu.instr)
                raise TerminalRefused(
                    message.apdu.instr,
                    f"terminal refused {exchange.command.command}: {info.meaning}",
                )
            # Not acknowledged: a result meant for an earlier, abandoned command must not be
            # taken as stored. The PT reverses what it does not get an 80 00 00 for.
            raise LinkError(f"expected 80 00 to {exchange.command.command}, got {message.command}")

    def _run_master_phase(
        self,
        exchange: Exchange,
        on_status_info: Callable[[Message], None] | None,
        on_intermediate: Callable[[Message], None] | None,
        abort: threading.Event | None,
    ) -> None:
        t4 = self.timeouts.t4
        deadline = self.clock() + t4
        while not exchange.finished:
            if abort is not None and abort.is_set():
                self._maybe_abort(exchange)
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise LinkTimeout(f"T4: terminal silent for {t4:g} s")
            message = self._receive(min(remaining, self.timeouts.poll))
            if message is None:
                continue
            if message.apdu.control in ((0x04, 0xFF), (0x04, 0x0F)):
                minutes = message.int_field("timeout_minutes")
                if minutes:
                    t4 = max(self.timeouts.t4, minutes * 60.0)
                deadline = self.clock() + t4
            self._handle(exchange, message, on_status_info, on_intermediate)

    def _maybe_abort(self, exchange: Exchange) -> None:
        """Send 06 B0 only while the PT waits for a card: never during host authorisation."""
        if exchange.abort_sent or exchange.status_infos:
            return
        last = (
            exchange.intermediate[-1].int_field("intermediate_status")
            if exchange.intermediate
            else None
        )
        if last is not None and last not in CARD_WAIT_STATES:
            return
        exchange.abort_sent = True
        self._send(abort_command())

    def _handle(
        self,
        exchange: Exchange,
        message: Message,
        on_status_info: Callable[[Message], None] | None,
        on_intermediate: Callable[[Message], None] | None,
    ) -> None:
        control = message.apdu.control
        if message.apdu.cls in (0x80, 0x84):
            return  # the PT's answer to our 06 B0: not acknowledged
        if control == (0x04, 0x0F):
            exchange.status_infos.append(message)
            if not self._store(exchange, message, on_status_info):
                return
            self._at("result_stored", exchange)
            exchange.acknowledged.append(message)
        elif control == (0x04, 0xFF):
            exchange.intermediate.append(message)
            if on_intermediate is not None:
                on_intermediate(message)
        elif control in ((0x06, 0xD1), (0x06, 0xD3)):
            exchange.receipt_lines.extend(message.texts)
        elif control == (0x06, 0x0F):
            exchange.completion = message
        elif control == (0x06, 0x1E):
            exchange.abort = message
        elif control not in PT_MESSAGES:
            log.info("ZVT: acknowledging unexpected %s", message.command)
        try:
            self._send(ACK)
        except LinkError:
            if not exchange.finished:
                raise
            log.warning("ZVT: link failed acknowledging the final %s", message.command)
            return
        if control == (0x04, 0x0F):
            self._at("ack_sent", exchange)

    def _store(
        self, exchange: Exchange, message: Message, on_status_info: Callable[[Message], None] | None
    ) -> bool:
        """Hand a 04 0F to the sink; True if it may be acknowledged."""
        if on_status_info is None:
            return True
        try:
            on_status_info(message)
            return True
        except Exception as exc:  # the sink is the journal: any failure means "not stored"
            log.error("ZVT: result not stored (%s); not acknowledging it", exc)
            if exchange.persist_retries_used < self.persist_retries:
                exchange.persist_retries_used += 1
                self._send(REPEAT_STATUS)
            else:
                exchange.persist_error = exc
                self._send(REFUSE_STATUS)
            return False
