"""The PT side of ZVT: answers the kiosk's commands the way a vending terminal does.

One ``PtEngine`` serves one link at a time. ``Dropped`` ends the connection (the server
closes the socket or goes deaf on the serial line), as a real link loss would.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.zvt.codec.apdu import Apdu, decode_apdu
from drivers.zvt.codec.bmp import RECEIPT_ANY, encode_bmp, encode_totals
from drivers.zvt.codec.messages import Message, decode_message
from drivers.zvt.codec.tlv import constructed, tlv
from drivers.zvt.errors import LinkError, ZvtDecodeError
from drivers.zvt.link import Link
from drivers.zvt.masking import mask_pan
from drivers.zvt.results import CARD_TYPE_BRANDS, EOD_OTHERS
from drivers.zvt_sim import hostile
from drivers.zvt_sim.ledger import Entry, Ledger
from drivers.zvt_sim.messages import now_bcd, status_information, text_block
from drivers.zvt_sim.script import Behaviour, Card, Delays, Fault

log = logging.getLogger("drivers.zvt_sim")

ACK = Apdu(0x80, 0x00)
COMPLETION = Apdu(0x06, 0x0F)
RESULT_CODES = {
    Behaviour.DECLINE: (0x05, "Karte abgelehnt"),
    Behaviour.PIN_REQUIRED: (0x41, "Bitte Karte stecken und PIN eingeben"),
    Behaviour.UNREADABLE: (0x64, "Karte nicht lesbar"),
    Behaviour.CUSTOMER_ABORT: (0x6C, "Abbruch durch Kunde"),
}


class Dropped(Exception):
    """The link is gone (or the fault plan says so)."""


class _Superseded(Exception):
    """The kiosk sent a new command mid-transaction: it gave up on the running one."""


@dataclass
class PtState:
    ledger: Ledger
    terminal_id: str = "52523535"
    currency_code: int = 978
    terminal_status: int = 0x00
    software: str = "evkiosk-sim 1.0"
    receipt_first: bool = False  # send 06 D3 before 04 0F, as Feig does
    max_status_repeats: int = 3
    delays: Delays = field(default_factory=Delays)
    cards: collections.deque[Card] = field(default_factory=collections.deque)
    faults: collections.Counter[Fault] = field(default_factory=collections.Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    commands_seen: list[str] = field(default_factory=list)
    last_status: Apdu | None = None  # for Repeat Receipt (06 20)
    hostile_pan: str | None = None  # set: this PAN, in clear, in every field (``hostile``)

    def take_fault(self, fault: Fault) -> bool:
        with self.lock:
            if self.faults[fault] > 0:
                self.faults[fault] -= 1
                return True
            return False

    def next_card(self) -> Card:
        with self.lock:
            return self.cards.popleft() if self.cards else Card()


class PtEngine:
    def __init__(self, link: Link, state: PtState) -> None:
        self.link = link
        self.state = state
        self.tlv_enabled = False
        self.pending: Message | None = None  # a command that arrived mid-transaction
        self.current: Apdu | None = None  # the command being served

    # -------------------------------------------------------------- link helpers
    def send(self, apdu: Apdu) -> None:
        try:
            self.link.send(apdu.encode())
        except LinkError as exc:
            raise Dropped(str(exc)) from exc

    def receive(self, timeout: float) -> Message | None:
        try:
            raw = self.link.receive(timeout)
        except LinkError as exc:
            raise Dropped(str(exc)) from exc
        if raw is None:
            return None
        try:
            return decode_message(decode_apdu(raw))
        except ZvtDecodeError as exc:
            log.warning("sim: undecodable APDU from the kiosk (%s)", exc)
            return None

    def send_await(self, apdu: Apdu) -> Apdu | None:
        """Send a PT message and wait for the kiosk's 80 00 00 / 84 xx; None if none came."""
        self.send(apdu)
        deadline = time.monotonic() + self.state.delays.ack_seconds
        while (remaining := deadline - time.monotonic()) > 0:
            message = self.receive(remaining)
            if message is not None and message.apdu.cls in (0x80, 0x84):
                if message.apdu.cls == 0x84:
                    self.state.commands_seen.append(message.command)
                return message.apdu
            self._check_superseded(message)
        return None

    def _check_superseded(self, message: Message | None) -> None:
        if message is not None and message.apdu == self.current:
            return  # the kiosk repeated the running command (our ACK was late): ignore it
        if message is not None and message.apdu.cls in (0x05, 0x06):
            self.pending = message
            raise _Superseded(message.command)

    def wait(self, seconds: float, abortable: bool = False) -> bool:
        """Pass time while watching the line; True if the kiosk sent 06 B0 (when allowed)."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            message = self.receive(min(remaining, 0.02))
            if message is not None and message.apdu.control == (0x06, 0xB0) and abortable:
                self.state.commands_seen.append(message.command)
                self.send(ACK)
                return True
            self._check_superseded(message)
        return False

    # -------------------------------------------------------------- dispatch
    def serve_one(self, timeout: float) -> bool:
        """Handle one command if one arrives within ``timeout``; False if none did."""
        message, self.pending = self.pending or self.receive(timeout), None
        if message is None:
            return False
        self.state.commands_seen.append(message.command)
        if message.apdu.cls in (0x80, 0x84):
            return True  # a late acknowledgement: nothing to do
        self.current = message.apdu
        if self.state.take_fault(Fault.NO_RESPONSE):
            return True
        handler = {
            (0x06, 0x00): self.registration,
            (0x05, 0x01): self.status_enquiry,
            (0x06, 0x02): self.log_off,
            (0x06, 0x22): self.preauthorisation,
            (0x06, 0x23): self.partial_reversal,
            (0x06, 0x24): self.book_total,
            (0x06, 0x25): self.preauth_reversal,
            (0x06, 0x31): self.refund,
            (0x06, 0x20): self.repeat_receipt,
            (0x06, 0x50): self.end_of_day,
            (0x06, 0xB0): self.log_off,  # nothing to abort: just acknowledge
        }.get(message.apdu.control)
        if handler is None:
            self.send(Apdu(0x84, 0x83))  # function not possible
            return True
        try:
            handler(message)
        except _Reversed:
            log.info("sim: result not acknowledged, transaction reversed")
        except _Superseded as exc:
            log.info("sim: %s arrived mid-transaction; the transaction is dropped", exc)
        return True

    def finish(self, ok: bool, code: int = 0, extra: bytes = b"") -> None:
        final = Apdu(0x06, 0x0F) if ok else Apdu(0x06, 0x1E, bytes([code]) + extra)
        self.send_await(final)

    # -------------------------------------------------------------- admin
    def registration(self, message: Message) -> None:
        self.send(ACK)
        self.tlv_enabled = "tlv" in message.fields or bool(message.tlv)
        currency = message.int_field("currency_code")
        if currency is not None and currency != self.state.currency_code:
            self.finish(False, 0x6F)
            return
        data = (
            encode_bmp(0x19, self.state.terminal_status)
            + encode_bmp(0x29, self.state.terminal_id)
            + encode_bmp(0x49, self.state.currency_code)
        )
        if self.state.hostile_pan:
            data += encode_bmp(0x06, hostile.tlv_items(self.state.hostile_pan))
        self.send_await(Apdu(0x06, 0x0F, data))

    def status_enquiry(self, message: Message) -> None:
        self.send(ACK)
        pan = self.state.hostile_pan
        software = (hostile.text(pan, self.state.software) if pan else self.state.software).encode()
        length = bytes(0xF0 | int(d) for d in f"{len(software):03d}")
        self.send_await(Apdu(0x06, 0x0F, length + software + bytes([self.state.terminal_status])))

    def log_off(self, message: Message) -> None:
        if message.apdu.control == (0x06, 0x02):
            self.tlv_enabled = False
        self.send(ACK)

    # -------------------------------------------------------------- card payments
    def intermediate(self, status: int, text: str | None = None) -> None:
        data = bytes([status])
        if pan := self.state.hostile_pan:  # TLV even if the kiosk did not enable it (Hobex)
            data += b"\x00" + encode_bmp(0x06, hostile.tlv_items(pan))
        elif text and self.tlv_enabled:  # a TLV needs the timeout byte; 00 keeps the kiosk's T4
            data += b"\x00" + encode_bmp(0x06, [constructed(0x24, tlv(0x07, text.encode("cp437")))])
        self.send_await(Apdu(0x04, 0xFF, data))

    def preauthorisation(self, message: Message) -> None:
        amount = message.int_field("amount") or 2500
        ref_tlv = message.find_tlv(0x1F63)
        reference = ref_tlv.value.decode("ascii", "replace") if ref_tlv else ""
        self.send(ACK)
        self.intermediate(0x0A, "Karte vorhalten")
        card = self.state.next_card()
        delays = self.state.delays
        if card.behaviour is Behaviour.NO_CARD:
            self.wait(delays.card_wait_seconds, abortable=True)
            self.finish(False, 0x6C)
            return
        if self.wait(delays.card_seconds, abortable=True):
            self.finish(False, 0x6C)
            return
        if card.behaviour in RESULT_CODES and card.behaviour is not Behaviour.DECLINE:
            self.refuse(card.behaviour)
            return
        self.intermediate(0x04, "Bitte warten")
        host = card.host_seconds if card.host_seconds is not None else delays.host_seconds
        if card.behaviour is Behaviour.SLOW_HOST and card.status_every:
            deadline = time.monotonic() + host
            while time.monotonic() < deadline:
                self.wait(min(card.status_every, max(0.0, deadline - time.monotonic())))
                self.intermediate(0x04)
        else:
            self.wait(host)
        if card.behaviour is Behaviour.DECLINE:
            self.refuse(card.behaviour)
            return
        if self.state.take_fault(Fault.DROP_BEFORE_RESULT):
            raise Dropped("fault: link dropped before the result")
        receipt, trace = self.state.ledger.allocate()
        entry = Entry(
            receipt,
            trace,
            amount,
            card.card_type,
            card.card_name,
            mask_pan(card.pan),
            f"{trace:06d}",
            reference,
        )
        pan = self.state.hostile_pan
        lines = hostile.receipt_lines(pan, ["PRE-AUTH"]) if pan else None
        self.result(entry, lambda: self.state.ledger.add_open(entry), lines)
        self.finish(True)

    def refuse(self, behaviour: Behaviour) -> None:
        code, text = RESULT_CODES[behaviour]
        if self.state.hostile_pan:
            text = hostile.text(self.state.hostile_pan, text)
        data = (
            bytes([0x27, code]) + encode_bmp(0x29, self.state.terminal_id) + encode_bmp(0x3C, text)
        )
        self.send_await(Apdu(0x04, 0x0F, data))
        self.finish(False, code)

    def result(
        self, entry: Entry, commit: Callable[[], None], receipt: list[str] | None = None
    ) -> None:
        """Send the 04 0F (and receipt); commit the transaction once the kiosk acknowledged it.
        A link lost before the acknowledgement drops the transaction (no commit)."""
        status = status_information(entry, self.state.terminal_id, self.state.currency_code)
        if pan := self.state.hostile_pan:
            receipt = hostile.receipt_lines(pan, receipt or [])
            fields = status.data[:2] + hostile.status_fields(pan) + status.data[2:]
            status = Apdu(0x04, 0x0F, fields + hostile.trailer(pan))

        def keep() -> None:  # stored: Repeat Receipt (06 20) returns it from now on
            commit()
            self.state.last_status = status

        if receipt and self.state.receipt_first:
            self.send_await(text_block(receipt))
        if self.state.take_fault(Fault.LOSE_RESULT):
            keep()
            raise Dropped("fault: result lost on the line")
        if self.state.take_fault(Fault.DROP_AFTER_RESULT):
            keep()  # the PT has approved; the kiosk's acknowledgement never arrives
            self.send(status)
            raise Dropped("fault: link dropped after the result")
        repeats = 0
        while True:
            answer = self.send_await(status)
            if (
                answer is not None
                and answer.control == (0x84, 0x9C)
                and repeats < self.state.max_status_repeats
            ):
                repeats += 1
                self.wait(self.state.delays.repeat_seconds)
                continue
            break
        if answer is None or answer.cls != 0x80:
            # Not acknowledged: the PT reverses (auto-reversal) and ends with an abort.
            self.finish(False, 0x6C)
            raise _Reversed()
        keep()
        if receipt and not self.state.receipt_first:
            self.send_await(text_block(receipt))

    # -------------------------------------------------------------- settling
    def partial_reversal(self, message: Message) -> None:
        receipt = message.int_field("receipt_no")
        if receipt == RECEIPT_ANY:
            self.enquiry()
            return
        self.settle(message, lambda held, amount: held - amount)

    def book_total(self, message: Message) -> None:
        self.settle(message, lambda held, amount: amount)

    def preauth_reversal(self, message: Message) -> None:
        self.settle(message, lambda held, amount: 0)

    def enquiry(self) -> None:
        self.send(ACK)
        open_now = self.state.ledger.open_receipts()
        first = open_now[0] if open_now else RECEIPT_ANY
        extra = encode_bmp(0x87, first)
        if open_now and self.tlv_enabled:
            listing = constructed(0x23, *(tlv(0x08, bytes.fromhex(f"{r:04d}")) for r in open_now))
            extra += encode_bmp(0x06, [listing])
        self.finish(False, 0xB8, extra)

    def settle(self, message: Message, booked_of: Callable[[int, int], int]) -> None:
        receipt = message.int_field("receipt_no")
        amount = message.int_field("amount") or 0
        self.send(ACK)
        held = self.state.ledger.get_open(receipt) if receipt is not None else None
        if held is None:
            self.finish(False, 0xB8)
            return
        booked = int(booked_of(held.amount_minor, amount))
        if not 0 <= booked <= held.amount_minor or amount > held.amount_minor:
            self.finish(False, 0xB7)
            return
        if booked > 0 and self.state.take_fault(Fault.REFUSE_BOOKING):
            self.finish(False, 0x05)  # nothing booked: the hold stays open
            return
        self.intermediate(0x04)
        self.wait(self.state.delays.host_seconds)
        if self.state.take_fault(Fault.DROP_BEFORE_RESULT):
            raise Dropped("fault: link dropped before the result")
        receipt_no, trace = self.state.ledger.allocate()
        entry = Entry(
            receipt_no,
            trace,
            booked,
            held.card_type,
            held.card_name,
            held.masked_pan,
            held.auth_code,
            held.reference,
            held.receipt_no,
        )
        euros = f"{booked // 100},{booked % 100:02d}"
        lines = [
            "EV CHARGING",
            f"Receipt {receipt_no:04d}  Trace {trace:06d}",
            f"Pre-auth receipt {held.receipt_no:04d}",
            f"{held.card_name} {held.masked_pan}",
            f"Amount EUR {euros}",
            "Approved",
        ]
        self.result(entry, lambda: self.state.ledger.close(held.receipt_no, entry), lines)
        self.finish(True)

    def refund(self, message: Message) -> None:
        """06 31: a card is presented and the amount goes back to it."""
        amount = message.int_field("amount") or 0
        self.send(ACK)
        if amount <= 0:
            self.finish(False, 0xB7)
            return
        self.intermediate(0x0A, "Karte vorhalten")
        card = self.state.next_card()
        if card.behaviour is Behaviour.NO_CARD:
            self.wait(self.state.delays.card_wait_seconds, abortable=True)
            self.finish(False, 0x6C)
            return
        if self.wait(self.state.delays.card_seconds, abortable=True):
            self.finish(False, 0x6C)
            return
        if card.behaviour in RESULT_CODES:
            self.refuse(card.behaviour)
            return
        self.intermediate(0x04, "Bitte warten")
        self.wait(self.state.delays.host_seconds)
        if self.state.take_fault(Fault.DROP_BEFORE_RESULT):
            raise Dropped("fault: link dropped before the result")
        receipt_no, trace = self.state.ledger.allocate()
        entry = Entry(
            receipt_no,
            trace,
            amount,
            card.card_type,
            card.card_name,
            mask_pan(card.pan),
            f"{trace:06d}",
        )
        euros = f"{amount // 100},{amount % 100:02d}"
        lines = [
            "EV CHARGING",
            "GUTSCHRIFT / REFUND",
            f"Receipt {receipt_no:04d}  Trace {trace:06d}",
            f"{card.card_name} {mask_pan(card.pan)}",
            f"Amount EUR {euros}",
            "Approved",
        ]
        self.result(entry, lambda: self.state.ledger.add_refund(entry), lines)
        self.finish(True)

    # -------------------------------------------------------------- other
    def repeat_receipt(self, message: Message) -> None:
        self.send(ACK)
        if self.state.last_status is not None:
            self.send_await(self.state.last_status)
        self.finish(True)

    def end_of_day(self, message: Message) -> None:
        self.send(ACK)
        open_now = self.state.ledger.open_receipts()
        if open_now:  # Feig: refuses while a pre-auth is open, naming its receipt
            self.finish(False, 0xB8, encode_bmp(0x87, open_now[0]))
            return
        if any(total < 0 for _, total in self.state.ledger.batch_net().values()):
            # More refunded than booked for a card type: its total cannot be sent (BCD has no
            # sign). The batch stays open until bookings outweigh the refunds.
            self.finish(False, 0x77)
            return
        per_type, record = self.state.ledger.end_of_day()
        per_brand: dict[str, tuple[int, int]] = {}
        for card_type, (n, amount) in per_type.items():  # refunds already subtracted
            brand = CARD_TYPE_BRANDS.get(card_type, EOD_OTHERS)
            count, total = per_brand.get(brand, (0, 0))
            per_brand[brand] = (count + n, total + amount)
        _, trace = self.state.ledger.allocate()
        time_s, date_s = now_bcd()
        totals = encode_totals(int(record["receipt_from"]), int(record["receipt_to"]), per_brand)
        data = (
            bytes([0x27, 0x00])
            + encode_bmp(0x04, int(record["total_minor"]))
            + encode_bmp(0x0B, trace)
            + encode_bmp(0x0D, date_s)
            + encode_bmp(0x0C, time_s)
            + encode_bmp(0x60, totals)
        )
        self.send_await(Apdu(0x04, 0x0F, data))
        self.send_await(text_block(["END OF DAY", f"Total EUR {record['total_minor']}"]))
        self.finish(True)


class _Reversed(Exception):
    """The kiosk did not acknowledge a result; the PT reversed it and ended the command."""
