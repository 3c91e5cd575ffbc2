"""Reset from the CSMS (OCPP 2.x `Reset`, Immediate or OnIdle): the station restarts.

A restart here is the kiosk's own clean stop (its `restart` hook: the app quits, and the
service manager starts it again; recovery finishes whatever was open). It never cuts into a
payment: while any session is paying, charging or settling, the answer is `Scheduled` and the
restart happens at the first moment no session holds or is acquiring money. What the CSMS must
still hear of the last session is in the journal's queue and goes out after the restart. An
Immediate reset is treated like OnIdle for that reason: stopping a paid charge early would end
the driver's session for the operator's convenience. A reset of one EVSE is `Rejected`: the
station restarts as a whole.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kiosk.journal.store import JournalError
from kiosk.session.model import Station
from kiosk.session.names import Phase

log = logging.getLogger(__name__)

# A session in these phases is paying, holds money or is settling it.
MONEY_PHASES = frozenset(
    {
        Phase.PAYING_CARD,
        Phase.PAYING_QR,
        Phase.WAITING_FOR_PLUG,
        Phase.STARTING,
        Phase.CHARGING,
        Phase.STOPPING,
        Phase.SETTLING,
    }
)
ANSWER_FIRST_S = 2.0  # the answer reaches the CSMS before the link goes down


def busy(station: Station) -> bool:
    return any(s.phase in MONEY_PHASES for s in station.sessions)


class ResetPlan:
    def __init__(
        self,
        station: Callable[[], Station],
        *,
        answer_first_s: float = ANSWER_FIRST_S,
        note_reset: Callable[[], None] | None = None,
    ) -> None:
        self.station = station
        self.note_reset = note_reset  # the next boot says RemoteReset (kept in the journal)
        self.restart: Callable[[], None] | None = None  # set by the app that can restart
        self.scheduled = False
        self.answer_first_s = answer_first_s
        self._lock = threading.Lock()

    def request(self, kind: str, evse_id: int | None) -> tuple[str, str | None]:
        """The Reset answer's status and, when not accepted, why (statusInfo.reasonCode)."""
        if self.restart is None:
            return "Rejected", "NoRestart"  # nothing here can restart the station
        if evse_id:
            return "Rejected", "NoEvseReset"
        if busy(self.station()):
            with self._lock:
                self.scheduled = True
            log.warning("csms: %s reset scheduled: a session holds money", kind)
            return "Scheduled", None
        log.warning("csms: %s reset accepted: restarting", kind)
        self._fire()
        return "Accepted", None

    def snapshot(self, _snap: object) -> None:
        """A runtime subscriber: a scheduled reset happens once no session holds money."""
        with self._lock:
            due = self.scheduled and not busy(self.station())
            if due:
                self.scheduled = False
        if due:
            log.warning("csms: scheduled reset: no session holds money now; restarting")
            self._fire()

    def _fire(self) -> None:
        restart = self.restart
        assert restart is not None
        if self.note_reset is not None:
            try:
                self.note_reset()
            except JournalError as exc:  # the restart matters more than its reason
                log.error("csms: the reset's boot reason was not kept: %s", exc)
        timer = threading.Timer(self.answer_first_s, restart)
        timer.daemon = True
        timer.start()
