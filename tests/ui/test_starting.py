"""The window's station while the real one is built: what it shows, and that nothing the
window sends in that time is lost or reordered."""

from __future__ import annotations

import threading
from dataclasses import replace

from kiosk.snapshot import ChooseConnector, Intent, Phase, StationSnapshot
from ui.ports import Listener
from ui.preview import station as preview_station
from ui.starting import STILL_STARTING, LateService, StartingStation


def idle(seq: int) -> StationSnapshot:
    return replace(preview_station(Phase.IDLE), seq=seq)


class RecordingRuntime:
    """A station port that keeps what it was given (the real runtime's are non-blocking)."""

    def __init__(self, snapshot: StationSnapshot) -> None:
        self.snapshot = snapshot
        self.intents: list[Intent] = []
        self.listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)
        listener(self.snapshot)

    def send(self, intent: Intent) -> None:
        self.intents.append(intent)


def test_intents_sent_while_starting_reach_the_runtime_first_and_in_order() -> None:
    first = idle(0)
    station = StartingStation(first)
    seen: list[StationSnapshot] = []
    station.subscribe(seen.append)
    assert seen == [first]
    station.send(ChooseConnector("1"))
    station.send(ChooseConnector("2"))
    runtime = RecordingRuntime(idle(seq=7))
    sending = threading.Thread(target=lambda: station.send(ChooseConnector("3")))
    station.attach(runtime)
    sending.start()
    sending.join()
    assert runtime.intents == [ChooseConnector("1"), ChooseConnector("2"), ChooseConnector("3")]
    assert seen == [first, runtime.snapshot]  # the early listener now hears the runtime
    later: list[StationSnapshot] = []
    station.subscribe(later.append)
    assert later == [runtime.snapshot] and len(runtime.listeners) == 2


class Service:
    def recent_sessions(self, limit: int) -> list[str]:
        return [f"session {n}" for n in range(limit)]

    def terminal_status(self) -> str:
        return "ready"

    def end_of_day(self) -> str:
        return "end of day done"

    def open_preauths(self) -> str:
        return "none"

    def card_refund(self, session_id: str, amount: str) -> str:
        return f"refund {session_id} {amount}"


def test_the_service_menu_says_the_station_is_still_starting_until_it_runs() -> None:
    service = LateService()
    assert service.recent_sessions(2) == [STILL_STARTING]
    assert service.terminal_status() == service.end_of_day() == STILL_STARTING
    assert service.open_preauths() == service.card_refund("s1", "1.00") == STILL_STARTING
    service.attach(Service())
    assert service.recent_sessions(2) == ["session 0", "session 1"]
    assert service.card_refund("s1", "1.00") == "refund s1 1.00"
    assert service.terminal_status() == "ready"
