"""What the app needs from the station, as protocols: the runtime (snapshots in, intents out),
the installer's service functions, and the simulator controls. The composition root supplies
real objects; nothing in ui/ below it knows which."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kiosk.snapshot import Intent, StationSnapshot

Listener = Callable[[StationSnapshot], None]


class StationPort(Protocol):
    def subscribe(self, listener: Listener) -> None:
        """Call `listener` (from the runtime's thread) with every new snapshot."""
        ...

    def send(self, intent: Intent) -> None:
        """Thread-safe and non-blocking: queue an intent for the runtime's owner thread."""
        ...


class ServicePort(Protocol):
    """Installer functions; each may block on a device, so the UI calls them off its thread."""

    def recent_sessions(self, limit: int) -> list[str]: ...

    def terminal_status(self) -> str: ...

    def end_of_day(self) -> str: ...

    def open_preauths(self) -> str: ...

    def card_refund(self, session_id: str, amount: str) -> str: ...  # ZVT 06 31, card present


class SimulatorPort(Protocol):
    """The simulated hardware an installer plays with (simulated mode only)."""

    def connectors(self) -> list[str]: ...

    def plug(self, connector_id: str, plugged: bool) -> None: ...

    def pause_vehicle(self, connector_id: str, paused: bool) -> None: ...  # full / paused car

    def set_card_behaviour(self, behaviour: str) -> None: ...  # "approve", "decline", "pin"

    def card_behaviours(self) -> list[str]: ...

    def pay_link(self) -> str: ...  # pays the open payment link; returns what happened

    def faults(self) -> list[str]: ...

    def inject(self, fault: str, on: bool) -> None: ...
