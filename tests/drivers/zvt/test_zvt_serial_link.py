"""The serial link on a real pty pair: stuffing on the wire, T1, T2, NAK, garbage, CRC."""

from __future__ import annotations

import os
import threading
import time
import tty
from collections.abc import Iterator

import pytest

from drivers.zvt.errors import LinkError
from drivers.zvt.link import Timeouts
from drivers.zvt.transport_serial import (
    ACK,
    NAK,
    FdChannel,
    PySerialChannel,
    SerialLink,
    SerialSettings,
    crc16_kermit,
    encode_frame,
)

SHORT = Timeouts(t1=0.1, t2=0.2, resends=2)


@pytest.fixture
def line() -> Iterator[tuple[SerialLink, FdChannel]]:
    """The kiosk's link through pyserial on the pty slave; the raw master is the far end."""
    master, slave = os.openpty()
    tty.setraw(slave)
    channel = PySerialChannel(os.ttyname(slave), SerialSettings())
    link = SerialLink(channel, SHORT)
    yield link, FdChannel(master)
    link.close()
    os.close(slave)
    os.close(master)


def read_all(far: FdChannel, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        out += far.read(0.02)
    return out


def read_exact(far: FdChannel, size: int, seconds: float = 2.0) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while len(out) < size and time.monotonic() < deadline:
        out += far.read(0.02)
    return out


@pytest.mark.parametrize(
    ("apdu", "crc"),
    [  # research/zvt.md §1.2 and §7.3/§7.7; the first four match captured frames
        ("060F0BF0F0F7322E31342E313500", "B111"),
        ("050103123456", "E043"),
        ("800000", "F51F"),
        ("060F15F0F1F7" + b"061022a M IC_ Std".hex() + "00", "E451"),
        ("060006123456DE0978", "2C28"),
        ("06010A04000000001000490978", "2760"),
        ("06B000", "43F3"),
        ("06230387FFFF", "FBBD"),
        ("849C00", "C341"),
    ],
)
def test_crc_is_kermit_as_real_terminals_send_it(apdu: str, crc: str) -> None:
    assert crc16_kermit(b"123456789") == 0x2189
    frame = encode_frame(bytes.fromhex(apdu))
    assert frame[-2:] == bytes.fromhex(crc)  # low byte first
    assert frame[:2] == b"\x10\x02" and frame[-4:-2] == b"\x10\x03"


def test_send_stuffs_dle_and_waits_for_ack(line: tuple[SerialLink, FdChannel]) -> None:
    link, far = line
    apdu = bytes.fromhex("06010A04000000001000490978")

    def terminal() -> None:
        wire = read_exact(far, 20)
        assert wire == bytes.fromhex(
            "1002 06010A0400000000 1010 00490978 1003 2760".replace(" ", "")
        )
        far.write(bytes([ACK]))

    thread = threading.Thread(target=terminal)
    thread.start()
    link.send(apdu)
    thread.join()
    assert link.resent == 0


def test_nak_then_ack_resends_once(line: tuple[SerialLink, FdChannel]) -> None:
    link, far = line
    frame = encode_frame(b"\x06\xb0\x00")

    def terminal() -> None:
        assert read_exact(far, len(frame)) == frame
        far.write(bytes([NAK]))
        assert read_exact(far, len(frame)) == frame
        far.write(bytes([ACK]))

    thread = threading.Thread(target=terminal)
    thread.start()
    link.send(b"\x06\xb0\x00")
    thread.join()
    assert link.resent == 1


def test_silence_after_three_attempts_is_a_link_error(line: tuple[SerialLink, FdChannel]) -> None:
    link, far = line
    with pytest.raises(LinkError, match="after 3 attempts"):
        link.send(b"\x06\xb0\x00")
    assert read_all(far, 0.05) == encode_frame(b"\x06\xb0\x00") * 3


def test_receive_acks_good_frames_and_skips_garbage(line: tuple[SerialLink, FdChannel]) -> None:
    link, far = line
    far.write(b"\x00\xffnoise" + encode_frame(b"\x04\xff\x01\x0e") + b"\x42")
    assert link.receive(1.0) == b"\x04\xff\x01\x0e"
    assert read_all(far, 0.05) == bytes([ACK])


def test_bad_crc_gets_nak_and_the_repeat_is_taken(line: tuple[SerialLink, FdChannel]) -> None:
    link, far = line
    good = encode_frame(b"\x06\x0f\x00")
    far.write(good[:-1] + bytes([good[-1] ^ 0x55]))
    assert link.receive(0.3) is None
    assert read_all(far, 0.05) == bytes([NAK])
    far.write(good)
    assert link.receive(1.0) == b"\x06\x0f\x00"


def test_a_frame_stalled_longer_than_t1_is_naked(line: tuple[SerialLink, FdChannel]) -> None:
    link, far = line
    frame = encode_frame(b"\x06\x0f\x00")
    far.write(frame[:4])
    assert link.receive(0.4) is None  # T1 = 0.1 s passes mid-frame
    assert read_all(far, 0.05) == bytes([NAK])
    far.write(frame)
    assert link.receive(1.0) == b"\x06\x0f\x00"


def test_an_answer_frame_counts_as_the_lost_ack(line: tuple[SerialLink, FdChannel]) -> None:
    link, far = line

    def terminal() -> None:
        read_exact(far, len(encode_frame(b"\x05\x01\x03\x12\x34\x56")))
        far.write(encode_frame(b"\x80\x00\x00"))  # no ACK byte, but it answered

    thread = threading.Thread(target=terminal)
    thread.start()
    link.send(b"\x05\x01\x03\x12\x34\x56")
    thread.join()
    assert link.resent == 0 and link.receive(0.5) == b"\x80\x00\x00"


def test_a_repeated_frame_after_a_lost_ack_is_delivered_once(
    line: tuple[SerialLink, FdChannel],
) -> None:
    link, far = line
    frame = encode_frame(b"\x04\xff\x01\x04")
    far.write(frame + frame)  # the terminal did not see our ACK and sent it again
    assert link.receive(1.0) == b"\x04\xff\x01\x04"
    assert link.receive(0.3) is None and link.duplicates == 1
    assert read_exact(far, 2) == bytes([ACK, ACK])  # both copies acknowledged


def test_the_same_frame_after_we_answered_is_a_new_message(
    line: tuple[SerialLink, FdChannel],
) -> None:
    link, far = line
    frame = encode_frame(b"\x04\xff\x01\x04")
    far.write(frame)
    assert link.receive(1.0) == b"\x04\xff\x01\x04"
    threading.Timer(0.05, lambda: far.write(bytes([ACK]) + frame)).start()
    link.send(b"\x80\x00\x00")  # we answered: the next equal frame is a new status message
    assert link.receive(1.0) == b"\x04\xff\x01\x04" and link.duplicates == 0


def test_a_frame_repeated_more_often_than_the_peer_resends_is_delivered_again(
    line: tuple[SerialLink, FdChannel],
) -> None:
    # A command we left unanswered (a terminal that ignored a registration) comes again after
    # the sender's T3, byte for byte the same: it must get through, not be taken forever for
    # a repeat after a lost ACK (the peer repeats at most SHORT.resends = 2 times).
    link, far = line
    frame = encode_frame(b"\x06\x00\x03\x00\x00\x00")
    far.write(frame * 4)
    assert link.receive(1.0) == b"\x06\x00\x03\x00\x00\x00"
    assert link.receive(1.0) == b"\x06\x00\x03\x00\x00\x00"  # the fourth copy
    assert link.duplicates == 2


def test_an_equal_frame_after_the_resend_window_is_a_new_message() -> None:
    ticks = [0.0]

    def clock() -> float:  # moves a millisecond per look, and jumps when the test says
        ticks[0] += 0.001
        return ticks[0]

    master, slave = os.openpty()
    tty.setraw(slave)
    link, far = SerialLink(FdChannel(master), SHORT, clock=clock), FdChannel(slave)
    try:
        frame = encode_frame(b"\x04\xff\x01\x04")
        far.write(frame)
        assert link.receive(1.0) == b"\x04\xff\x01\x04"
        ticks[0] += (SHORT.resends + 1) * (SHORT.t2 + SHORT.t1)  # later: the status again
        far.write(frame)
        assert link.receive(1.0) == b"\x04\xff\x01\x04" and link.duplicates == 0
    finally:
        os.close(master)
        os.close(slave)
