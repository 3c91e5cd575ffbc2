"""Any bytes into the decoder or the serial deframer: a result or a clear error, nothing else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.zvt.codec.apdu import Apdu, decode_apdu, split_apdus
from drivers.zvt.codec.messages import decode_message
from drivers.zvt.errors import ZvtDecodeError
from drivers.zvt.transport_serial import DLE, Deframer, EventKind, encode_frame
from drivers.zvt.transport_tcp import Reassembler

FUZZ = settings(max_examples=300, deadline=None)
COMMANDS = [
    (0x04, 0x0F),
    (0x04, 0xFF),
    (0x06, 0x0F),
    (0x06, 0x1E),
    (0x06, 0xD1),
    (0x06, 0xD3),
    (0x06, 0x00),
    (0x05, 0x01),
    (0x06, 0x23),
    (0x80, 0x00),
    (0x84, 0x9C),
]


@FUZZ
@given(st.binary(max_size=600))
def test_decoder_never_fails_unexpectedly(raw: bytes) -> None:
    try:
        for apdu in split_apdus(raw):
            decode_message(apdu).to_json()
    except ZvtDecodeError as exc:
        assert str(exc)  # a message that says what is wrong


@FUZZ
@given(st.sampled_from(COMMANDS), st.binary(max_size=300))
def test_known_commands_with_any_body(control: tuple[int, int], body: bytes) -> None:
    apdu = Apdu(control[0], control[1], body)
    assert decode_apdu(apdu.encode()) == apdu
    try:
        out = decode_message(apdu).to_json()
        assert out["command"] == apdu.command
    except ZvtDecodeError as exc:
        assert str(exc)


@FUZZ
@given(st.lists(st.binary(min_size=0, max_size=300), max_size=4), st.binary(max_size=40), st.data())
def test_deframer_finds_every_frame_between_garbage(
    apdus: list[bytes], garbage: bytes, data: st.DataObject
) -> None:
    # Garbage without DLE cannot start a frame; ACK/NAK bytes in it are reported as such.
    noise = garbage.replace(bytes([DLE]), b"")
    stream = b"".join(noise + encode_frame(a) for a in apdus)
    deframer = Deframer()
    frames = []
    pos = 0
    while pos < len(stream):  # fed in arbitrary chunks, as reads deliver them
        size = data.draw(st.integers(1, 64))
        frames += [
            e.apdu for e in deframer.feed(stream[pos : pos + size]) if e.kind is EventKind.FRAME
        ]
        pos += size
    assert frames == apdus


@FUZZ
@given(st.binary(max_size=800))
def test_deframer_survives_any_bytes(raw: bytes) -> None:
    deframer = Deframer()
    events = deframer.feed(raw)
    assert all(e.kind in EventKind for e in events)
    # Whatever state the noise left, the next frames resynchronise: at most one is lost.
    clean = encode_frame(b"\x80\x00\x00")
    frames = [e for e in deframer.feed(clean + clean) if e.kind is EventKind.FRAME]
    assert frames and all(e.apdu == b"\x80\x00\x00" for e in frames)
    deframer.feed(raw)
    deframer.reset()  # what T1 does to a stalled frame
    assert [e.apdu for e in deframer.feed(clean) if e.kind is EventKind.FRAME] == [b"\x80\x00\x00"]


@FUZZ
@given(st.binary(max_size=300))
def test_corrupted_frame_is_never_delivered(apdu: bytes) -> None:
    frame = bytearray(encode_frame(apdu))
    frame[-1] ^= 0x01
    events = Deframer().feed(bytes(frame))
    assert not [e for e in events if e.kind is EventKind.FRAME]
    assert [e for e in events if e.kind is EventKind.BAD_FRAME]


@FUZZ
@given(st.lists(st.binary(max_size=400), min_size=1, max_size=5), st.data())
def test_tcp_reassembly_across_and_within_reads(bodies: list[bytes], data: st.DataObject) -> None:
    apdus = [Apdu(0x04, 0x0F, body).encode() for body in bodies]
    stream = b"".join(apdus)
    reassembler = Reassembler()
    out: list[bytes] = []
    pos = 0
    while pos < len(stream):
        size = data.draw(st.integers(1, 700))
        out += reassembler.feed(stream[pos : pos + size])
        pos += size
    assert out == apdus and reassembler.pending == 0
