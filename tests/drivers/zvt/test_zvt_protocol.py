"""The protocol layer against a scripted terminal on a real socket pair."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from drivers.zvt.codec.apdu import Apdu
from drivers.zvt.codec.bmp import encode_bmp
from drivers.zvt.codec.messages import Message
from drivers.zvt.codec.tlv import constructed, tlv
from drivers.zvt.errors import TerminalRefused
from drivers.zvt.link import Timeouts
from drivers.zvt.protocol import ExchangeInterrupted, Protocol
from drivers.zvt.transport_tcp import TcpLink

ACK = bytes.fromhex("800000")
STATUS = Apdu(
    0x04, 0x0F, bytes([0x27, 0x00]) + encode_bmp(0x04, 500) + encode_bmp(0x87, 7)
).encode()
BLOCK = Apdu(
    0x06,
    0xD3,
    encode_bmp(0x06, [constructed(0x25, tlv(0x07, b"BLOCK 1"), tlv(0x07, b"BLOCK 2"))]),
).encode()
LINE = Apdu(0x06, 0xD1, b"\x00LINE A").encode()
DONE = bytes.fromhex("060F00")

Script = Callable[[TcpLink], None]


@pytest.fixture
def pair() -> Iterator[tuple[TcpLink, TcpLink]]:
    ecr, pt = socket.socketpair()
    short = Timeouts(t3=0.3, t4=0.3, poll=0.01)
    links = (TcpLink(ecr, short), TcpLink(pt, short))
    yield links
    for link in links:
        link.close()


def play(pt: TcpLink, script: Script) -> threading.Thread:
    thread = threading.Thread(target=script, args=(pt,), daemon=True)
    thread.start()
    return thread


def test_receipts_in_any_order_and_persist_before_ack(pair: tuple[TcpLink, TcpLink]) -> None:
    ecr, pt = pair
    stored: list[Message] = []
    seen_at_ack: list[int] = []

    def terminal(link: TcpLink) -> None:
        assert link.receive(2) is not None  # the command
        link.send(ACK)
        for apdu in (BLOCK, STATUS, LINE, DONE):  # text block first, as Feig sends it
            link.send(apdu)
            assert link.receive(2) == ACK
            if apdu == STATUS:
                seen_at_ack.append(len(stored))

    thread = play(pt, terminal)
    done = Protocol(ecr, ecr.timeouts).transact(Apdu(0x06, 0x24), stored.append)
    thread.join(2)
    assert [m.int_field("receipt_no") for m in stored] == [7]
    assert seen_at_ack == [1]  # stored before the 80 00 00 left
    assert done.receipt_lines == ["BLOCK 1", "BLOCK 2", "LINE A"]
    assert done.completion is not None and done.acknowledged == stored


def test_negative_response_refuses_the_command(pair: tuple[TcpLink, TcpLink]) -> None:
    ecr, pt = pair

    def terminal(link: TcpLink) -> None:
        link.receive(2)
        link.send(bytes.fromhex("848300"))

    play(pt, terminal)
    with pytest.raises(TerminalRefused) as refused:
        Protocol(ecr, ecr.timeouts).transact(Apdu(0x06, 0x22))
    assert refused.value.code == 0x83


def test_t3_runs_out_when_nothing_answers(pair: tuple[TcpLink, TcpLink]) -> None:
    ecr, _ = pair
    with pytest.raises(ExchangeInterrupted, match="T3"):
        Protocol(ecr, ecr.timeouts).transact(Apdu(0x05, 0x01))


@pytest.mark.parametrize(("timeout_byte", "survives"), [(b"\x01", True), (b"", False)])
def test_intermediate_status_timeout_byte_sets_t4(
    pair: tuple[TcpLink, TcpLink], timeout_byte: bytes, survives: bool
) -> None:
    ecr, pt = pair
    finished = threading.Event()

    def terminal(link: TcpLink) -> None:
        link.receive(2)
        link.send(ACK)
        link.send(Apdu(0x04, 0xFF, b"\x0a" + timeout_byte).encode())
        link.receive(2)
        finished.wait(0.6)  # longer than T4 (0.3 s)
        link.send(DONE)
        link.receive(0.5)

    thread = play(pt, terminal)
    protocol = Protocol(ecr, ecr.timeouts)
    if survives:  # 01 = one minute: the terminal asked for more time
        assert protocol.transact(Apdu(0x06, 0x22)).completion is not None
    else:
        with pytest.raises(ExchangeInterrupted, match="T4"):
            protocol.transact(Apdu(0x06, 0x22))
    finished.set()
    thread.join(3)


def test_a_result_instead_of_80_00_is_not_acknowledged(pair: tuple[TcpLink, TcpLink]) -> None:
    ecr, pt = pair
    answers: list[bytes | None] = []

    def terminal(link: TcpLink) -> None:
        link.receive(2)
        link.send(STATUS)  # a stale result from an abandoned command
        answers.append(link.receive(0.5))

    thread = play(pt, terminal)
    with pytest.raises(ExchangeInterrupted, match="expected 80 00"):
        Protocol(ecr, ecr.timeouts).transact(Apdu(0x06, 0x00))
    thread.join(2)
    assert answers == [None]


def test_a_failing_sink_gets_a_repeat_then_a_refusal(pair: tuple[TcpLink, TcpLink]) -> None:
    ecr, pt = pair
    answers: list[bytes | None] = []

    def terminal(link: TcpLink) -> None:
        link.receive(2)
        link.send(ACK)
        link.send(STATUS)
        answers.append(link.receive(1))  # 84 9C: send it again
        link.send(STATUS)
        answers.append(link.receive(1))  # 84 66: refused → the PT reverses
        link.send(bytes.fromhex("061E016C"))
        answers.append(link.receive(1))

    def sink(message: Message) -> None:
        raise OSError("journal unavailable")

    thread = play(pt, terminal)
    with pytest.raises(Exception, match="journal unavailable"):
        Protocol(ecr, ecr.timeouts).transact(Apdu(0x06, 0x22), sink)
    thread.join(2)
    assert answers == [bytes.fromhex("849C00"), bytes.fromhex("846600"), ACK]


def test_logs_never_show_the_card_number_track_data_or_password(
    pair: tuple[TcpLink, TcpLink], caplog: pytest.LogCaptureFixture
) -> None:
    ecr, pt = pair
    pan = "5413330089020011"
    result = Apdu(
        0x04,
        0x0F,
        bytes([0x27, 0x00])
        + encode_bmp(0x22, bytes.fromhex(pan))
        + encode_bmp(0x23, bytes.fromhex(pan + "D25121")),
    ).encode()

    def terminal(link: TcpLink) -> None:
        link.receive(2)
        link.send(ACK)
        for apdu in (result, DONE):
            link.send(apdu)
            link.receive(2)

    thread = play(pt, terminal)
    caplog.set_level("DEBUG", logger="drivers.zvt")
    Protocol(ecr, ecr.timeouts).transact(Apdu(0x06, 0x20, bytes.fromhex("987654") + b"\x03\x03"))
    thread.join(2)
    logged = caplog.text
    assert "541333******0011" in logged and "'track_2': 'omitted'" in logged
    assert pan not in logged and "89020011" not in logged and "987654" not in logged
    # the redacted hex is in the log, ready to paste into `evkiosk zvt decode`
    assert "22 F0 F8 54 13 33 EE EE EE 00 11" in logged and "98 76 54" not in logged
