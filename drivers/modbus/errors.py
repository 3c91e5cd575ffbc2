"""Modbus failures as the core's DeviceError family, with what an installer should check."""

from __future__ import annotations

from kiosk.devices import DeviceError, DeviceProtocolError, DeviceTimeout

# Modbus exception codes (Modbus Application Protocol v1.1b3, §7) and what they mean here.
EXCEPTION_HINTS: dict[int, tuple[str, str]] = {
    1: ("illegal function", "the device does not support this function code: wrong profile?"),
    2: (
        "illegal data address",
        "the device has no register there: wrong profile (meter model) or wrong block size?",
    ),
    3: ("illegal data value", "the request was refused: odd register count or value out of range?"),
    4: ("server device failure", "the device reported an internal failure; power-cycle it"),
    5: ("acknowledge", "the device is busy with a long operation; retry later"),
    6: ("server device busy", "the device is busy; retry later"),
    10: ("gateway path unavailable", "the gateway has no route to this unit id"),
    11: (
        "gateway target failed to respond",
        "the gateway got no answer: check the unit id, baud rate and RS485 wiring behind it",
    ),
}

# Codes worth retrying: the device says "not now", not "never".
TRANSIENT_EXCEPTION_CODES = frozenset({5, 6, 11})


class ModbusExceptionReply(DeviceProtocolError):
    """The device answered with a Modbus exception response."""

    def __init__(self, code: int, what: str) -> None:
        name, hint = EXCEPTION_HINTS.get(code, (f"exception code {code}", "see the device manual"))
        super().__init__(f"{what}: device replied '{name}' (code {code}): {hint}")
        self.code = code


class LinkDown(DeviceError):
    """The port or connection itself could not be opened."""


def no_answer(what: str, rtu: bool) -> DeviceTimeout:
    if rtu:
        hint = (
            "check the unit id (--unit), baud rate, parity and stop bits match the device, "
            "RS485 A/B wiring, and that the device is powered"
        )
    else:
        hint = "check the unit id (--unit), that the device is powered and its Modbus TCP is on"
    return DeviceTimeout(f"{what}: nothing answered: {hint}")


def garbled(what: str, rtu: bool, sample: bytes) -> DeviceProtocolError:
    shown = sample[:16].hex(" ")
    if rtu:
        hint = (
            "bytes arrived but no valid frame (CRC or framing error): check baud rate and "
            "parity match the device, bus termination and biasing, and that no second "
            "master shares the bus"
        )
    else:
        hint = "bytes arrived but no valid Modbus TCP frame: is this port really Modbus TCP?"
    return DeviceProtocolError(f"{what}: {hint} (received {shown})")
