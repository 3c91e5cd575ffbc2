"""How to reach and talk to one terminal: ``ZvtConfig`` and the link it opens."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from drivers.zvt import commands
from drivers.zvt.link import Link, Timeouts
from drivers.zvt.results import currency_number
from drivers.zvt.transport_serial import PySerialChannel, SerialLink, SerialSettings
from drivers.zvt.transport_tcp import TcpLink

SETTLE_MODES = ("partial_reversal", "book_total")
# "192.168.1.50:20007": a network address an installer wrote without tcp://, never a device.
_HOST_PORT = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}")
# What `[terminal] model` may name: the protocol this driver speaks (any ZVT terminal).
TERMINAL_MODELS = ("zvt",)


def terminal_model_problem(model: str | None) -> str | None:
    """Why `[terminal] model` cannot be used, or None (unset means ZVT)."""
    if model is None or model in TERMINAL_MODELS:
        return None
    return (
        f"[terminal] model {model!r} is not a terminal this kiosk speaks to"
        f" (known: {', '.join(TERMINAL_MODELS)})"
    )


@dataclass(frozen=True, slots=True)
class ZvtConfig:
    port: str  # tcp://HOST[:PORT] or a serial device such as /dev/ttyUSB0
    password: str = "000000"  # noqa: S105 - the ZVT default, set per terminal
    currency: str = "EUR"
    settle_mode: str = "partial_reversal"  # 06 23 (release unused) or "book_total" (06 24)
    serial: SerialSettings = field(default_factory=SerialSettings)
    timeouts: Timeouts = field(default_factory=Timeouts)
    config_byte: int = commands.CONFIG_BYTE
    charset: str = "cp437"
    snapshot_before_preauth: bool = True  # lets a lost result be told apart from older holds
    recovery_attempts: int = 3
    terminal_id: str | None = None  # if set, a terminal answering with another TID is refused
    persist_retries: int = 1
    # 06 25 is not possible for these (spec §2.14): a zero settle releases all with 06 23.
    no_preauth_reversal_brands: tuple[str, ...] = ("girocard", "Maestro")

    def __post_init__(self) -> None:
        if _HOST_PORT.fullmatch(self.port):
            raise ValueError(
                f"port: {self.port!r} looks like HOST:PORT, not a serial device: "
                f"write tcp://{self.port}"
            )
        if self.settle_mode not in SETTLE_MODES:
            raise ValueError(f"settle_mode: {self.settle_mode!r} is not one of {SETTLE_MODES}")
        currency_number(self.currency)


def open_link(config: ZvtConfig) -> Link:
    if config.port.startswith("tcp://"):
        return TcpLink.connect(config.port, config.timeouts)
    return SerialLink(PySerialChannel(config.port, config.serial), config.timeouts)
