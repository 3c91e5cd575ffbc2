"""Errors of the ZVT driver, as kinds of the core's DeviceError."""

from __future__ import annotations

from kiosk.devices import DeviceError, DeviceProtocolError, DeviceTimeout


class ZvtDecodeError(DeviceProtocolError):
    """Bytes that are not a valid APDU or field. The message names the field and why."""


class LinkError(DeviceError):
    """The link failed (closed, resends exhausted): any running command has an unknown outcome."""


class LinkTimeout(LinkError, DeviceTimeout):
    """A timer (T2, T3, T4) ran out; the command's outcome is unknown."""


class WrongTerminal(LinkError):
    """Another terminal id answered than the one configured or seen before the reconnect."""


class TerminalRefused(DeviceError):
    """The terminal answered a command with ``84 xx`` (negative acknowledgement)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class PersistFailed(DeviceError):
    """The result sink raised: the result was not acknowledged to the terminal."""
