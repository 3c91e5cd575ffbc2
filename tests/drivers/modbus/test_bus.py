"""The bus owner: inter-request gap, retries with backoff, one owner per port, link errors."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from drivers.modbus.bus import BusRegistry, DeviceLink, ModbusBus, RetryPolicy
from drivers.modbus.endpoint import SerialSettings, Transport, parse_port
from drivers.modbus.errors import LinkDown
from drivers.modbus_sim import Fault, SimStation

from .conftest import FakeClock

Starter = Callable[..., SimStation]


@pytest.mark.parametrize(
    ("spec", "transport", "key"),
    [
        ("/dev/ttyUSB0", Transport.SERIAL, "serial:/dev/ttyUSB0"),
        ("socket://10.0.0.5:4001", Transport.RTU_GATEWAY, "rtu-gateway:10.0.0.5:4001"),
        ("tcp://meter.local:502", Transport.TCP, "tcp:meter.local:502"),
    ],
)
def test_port_strings(spec: str, transport: Transport, key: str) -> None:
    endpoint = parse_port(spec)
    assert endpoint.transport is transport
    assert endpoint.key == key


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "port is empty"),
        ("tcp://host", "expected tcp://HOST:PORT"),
        ("tcp://host:0", "port 1..65535"),
        ("socket://:502", "expected socket://HOST:PORT"),
        ("udp://h:1", "unknown scheme 'udp'"),
        ("192.168.10.21:502", "looks like HOST:PORT.*write tcp://192.168.10.21:502"),
        ("gateway.local:4001", "socket://gateway.local:4001"),
    ],
)
def test_bad_port_strings_say_why(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_port(spec)


def test_serial_settings_are_checked() -> None:
    assert SerialSettings(9600, "E", 1).bits_per_char == 11
    with pytest.raises(ValueError, match="parity 'X'"):
        SerialSettings(9600, "X")
    with pytest.raises(ValueError, match="baud rate 9601"):
        SerialSettings(9601)
    with pytest.raises(ValueError, match="stop bits 3"):
        SerialSettings(9600, "N", 3)


def test_gap_is_honoured_before_each_request(start_station: Starter) -> None:
    station = start_station(controller_profile=None)
    clock = FakeClock()
    bus = ModbusBus(parse_port(station.meter_port), clock=clock, sleep=clock.sleep)
    try:
        link = DeviceLink(bus, 1, gap_s=0.05)
        link.read_registers(4, 72, 2)
        assert clock.sleeps == []  # nothing happened on the bus before
        link.read_registers(4, 72, 2)
        assert clock.sleeps == [pytest.approx(0.05)]
        clock.advance(1.0)  # long after the last transaction: no wait needed
        link.read_registers(4, 72, 2)
        assert clock.sleeps == [pytest.approx(0.05)]
    finally:
        bus.close()


def test_lost_replies_are_retried_with_doubling_backoff(start_station: Starter) -> None:
    station = start_station(transport="pty", controller_profile=None)
    clock = FakeClock()
    policy = RetryPolicy(attempts=3, backoff_s=0.01, timeout_s=0.2)
    bus = ModbusBus(parse_port(station.meter_port), policy=policy, clock=clock, sleep=clock.sleep)
    try:
        station.inject("meter", Fault.SILENCE, count=2)
        link = DeviceLink(bus, 1)
        assert len(link.read_registers(4, 0, 76)) == 76
        assert link.last_retries == 2
        assert clock.sleeps == [pytest.approx(0.01), pytest.approx(0.02)]
        assert (bus.requests, bus.retries) == (3, 2)
    finally:
        bus.close()


def test_meter_and_controller_share_one_owner_per_bus() -> None:
    registry = BusRegistry()
    try:
        a = registry.open(parse_port("socket://127.0.0.1:1502"), SerialSettings(9600))
        b = registry.open(parse_port("socket://127.0.0.1:1502"), SerialSettings(9600))
        assert a is b
        with pytest.raises(ValueError, match="already open at 9600 8N1"):
            registry.open(parse_port("socket://127.0.0.1:1502"), SerialSettings(19200))
        assert registry.open(parse_port("tcp://127.0.0.1:1502")) is not a
    finally:
        registry.close_all()


def test_meter_and_controller_on_one_rtu_line(start_station: Starter) -> None:
    station = start_station(transport="pty", controller_profile="phoenix-ev-ser")
    assert station.meter is not None and station.controller is not None
    assert station.meter_port == station.controller_port
    assert station.meter.unit != station.controller.unit
    bus = ModbusBus(parse_port(station.meter_port), policy=RetryPolicy(timeout_s=0.3))
    try:
        meter, controller = (
            DeviceLink(bus, station.meter.unit),
            DeviceLink(bus, station.controller.unit),
        )
        for _ in range(3):
            assert len(meter.read_registers(4, 72, 2)) == 2
            assert controller.read_registers(4, 24000, 1) == [0x4131]  # "A1"
        assert bus.requests == 6
    finally:
        bus.close()


def test_nothing_listening_is_a_link_error() -> None:
    bus = ModbusBus(parse_port("tcp://127.0.0.1:1"), policy=RetryPolicy(attempts=1, timeout_s=0.2))
    try:
        with pytest.raises(LinkDown, match=r"cannot connect to 127\.0\.0\.1:1: check the address"):
            DeviceLink(bus, 1).read_registers(4, 0, 2)
    finally:
        bus.close()


def test_missing_serial_port_is_a_link_error(tmp_path: os.PathLike[str]) -> None:
    path = f"{tmp_path}/ttyUSB9"
    bus = ModbusBus(parse_port(path), policy=RetryPolicy(attempts=1, timeout_s=0.2))
    with pytest.raises(LinkDown, match=r"cannot open serial port .*ttyUSB9: check the adapter"):
        DeviceLink(bus, 1).read_registers(4, 0, 2)
    bus.close()


def test_unit_ids_and_function_codes_are_checked() -> None:
    bus = ModbusBus(parse_port("tcp://127.0.0.1:1"))
    try:
        with pytest.raises(ValueError, match="unit id 300"):
            DeviceLink(bus, 300)
        with pytest.raises(ValueError, match="function code 5 does not read registers"):
            DeviceLink(bus, 1).read_registers(5, 0, 1)
    finally:
        bus.close()
