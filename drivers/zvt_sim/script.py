"""What the simulated terminal will do: scripted cards, delays and injected faults (as data)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Behaviour(enum.Enum):
    APPROVE = "approve"
    DECLINE = "decline"  # host declines: result code 05
    PIN_REQUIRED = "pin_required"  # contactless soft decline: result code 41
    UNREADABLE = "unreadable"  # result code 64
    SLOW_HOST = "slow_host"  # approves after host_seconds, sending 04 FF while waiting
    CUSTOMER_ABORT = "customer_abort"  # the driver presses cancel: result code 6C
    NO_CARD = "no_card"  # nobody taps: waits for 06 B0 or the card timeout


@dataclass(frozen=True, slots=True)
class Card:
    behaviour: Behaviour = Behaviour.APPROVE
    card_type: int = 0x06  # BMP 8A: 06 Mastercard, 0A VISA, 05 girocard, 2E Maestro
    card_name: str = "MasterCard"
    pan: str = "5413330089020011"  # test PAN; only its masked form ever leaves the simulator
    host_seconds: float | None = None  # SLOW_HOST: how long the host takes
    status_every: float | None = None  # SLOW_HOST: 04 FF interval (None: stay silent)


@dataclass(frozen=True, slots=True)
class Delays:
    card_seconds: float = 0.05  # until the card is read
    host_seconds: float = 0.05  # host authorisation
    card_wait_seconds: float = 30.0  # NO_CARD: until the terminal gives up (6C)
    repeat_seconds: float = 2.0  # after 84 9C, before the Status-Information is sent again
    ack_seconds: float = 5.0  # how long the PT waits for the ECR's 80 00 00 (T3)
    drop_seconds: float = 1.0  # serial: how long the PT stays deaf after a link drop

    @classmethod
    def zero(cls) -> Delays:
        return cls(0.0, 0.0, 30.0, 0.0, 5.0, 1.0)


class Fault(enum.Enum):
    NAK = "nak"  # serial: NAK the kiosk's next frame
    NO_ACK = "no_ack"  # serial: the kiosk's next frame is lost (no ACK): it resends after T2
    DROP_ACK = "drop_ack"  # serial: the next frame is taken but its ACK byte is lost
    BAD_CRC = "bad_crc"  # serial: the PT's next frame carries a wrong CRC
    GARBAGE = "garbage"  # noise bytes before the PT's next message
    NO_RESPONSE = "no_response"  # the next command gets no 80 00 (the kiosk's T3 runs out)
    DROP_BEFORE_RESULT = "drop_before_result"  # next money command: link lost before 04 0F
    DROP_AFTER_RESULT = "drop_after_result"  # next money command: link lost after 04 0F
    LOSE_RESULT = "lose_result"  # next money command: approved and kept, its 04 0F lost, link lost
    REFUSE_BOOKING = "refuse_booking"  # next booking of an amount: the host declines (05)


GARBAGE_BYTES = b"\xff\x13\x37garbage\x00\x7f"
