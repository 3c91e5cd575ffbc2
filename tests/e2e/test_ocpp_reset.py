"""Reset from the CSMS, strict on both sides: accepted and carried out when no session holds
money; Scheduled while a card session charges, and carried out only once that session's money
is final; a reset of one EVSE is refused."""

from __future__ import annotations

import threading
from pathlib import Path

from drivers.ocpp import CsmsLink
from drivers.ocpp.reset import busy
from drivers.station import BackendAccess
from tests.e2e.ocpp_rig import ocpp_kiosk, pay_and_charge
from tests.ocpp.peer import Csms, require_peer

SCRIPT = [
    ("Reset", {"type": "OnIdle"}),
    ("Reset", {"type": "OnIdle", "evseId": 1}),
    ("@wait", {"action": "TransactionEvent", "count": 2}),
    ("Reset", {"type": "Immediate"}),
]


def test_reset_waits_for_the_sessions_money_and_then_restarts(
    backend: object, access: BackendAccess, workdir: Path, tmp_path: Path
) -> None:
    require_peer()
    restarts: list[bool] = []  # whether a session held money when the station restarted
    restarted = threading.Event()

    def hook(link: CsmsLink) -> None:
        plan = link.reset
        assert plan is not None

        def restart() -> None:
            restarts.append(busy(plan.station()))
            restarted.set()

        plan.restart = restart
        link.reset.answer_first_s = 0.0

    csms = Csms(tmp_path / "csms.jsonl", after_boot=SCRIPT).start()
    try:
        with ocpp_kiosk(workdir, access, csms.url, hold=5000, on_link=hook) as (k, link):
            csms.wait_for(lambda: len(csms.results()) == 2)
            assert restarted.wait(30), "an accepted reset did not restart the station"
            restarted.clear()
            # The CSMS resets again once the session is under way (2 TransactionEvents); the
            # session stops only after that reset was answered, whenever the CSMS sends it.
            sid = pay_and_charge(
                k, 300, while_charging=lambda: csms.wait_for(lambda: len(csms.results()) == 3)
            )  # at the receipt, money final
            statuses = [r["result"]["status"] for r in csms.results()]
            assert link.reset is not None
            assert restarted.wait(30), "the scheduled reset never came"
            ((final,),) = k.station.runtime.journal.query(
                "SELECT json_extract(state_json, '$.settlement.confirmed') FROM sessions "
                "WHERE session_id = ?",
                (sid,),
            )
    finally:
        csms.stop()
    assert csms.errors() == []
    assert statuses == ["Accepted", "Rejected", "Scheduled"]
    assert restarts == [False, False]  # never while a session held money
    assert final == 1  # the money was booked before the restart


def test_after_a_reset_the_station_boots_with_remote_reset_once(
    backend: object, access: BackendAccess, workdir: Path, tmp_path: Path
) -> None:
    """The reason is kept in the journal across the restart; once a boot with it was accepted,
    the next start is a power-up again."""
    require_peer()
    restarted = threading.Event()

    def can_restart(link: CsmsLink) -> None:
        assert link.reset is not None
        link.reset.restart = restarted.set
        link.reset.answer_first_s = 0.0

    csms = Csms(tmp_path / "csms.jsonl", after_boot=[("Reset", {"type": "OnIdle"})]).start()
    try:
        with ocpp_kiosk(workdir, access, csms.url, on_link=can_restart):
            assert restarted.wait(30), "an accepted reset did not restart the station"
        for boots in (2, 3):  # started again by the service manager, then once more
            with ocpp_kiosk(workdir, access, csms.url):
                csms.wait_for(lambda n=boots: len(csms.results()) == n)
    finally:
        csms.stop()
    assert csms.errors() == []
    reasons = [p["reason"] for _, p in csms.calls("BootNotification")]
    assert reasons == ["PowerUp", "RemoteReset", "PowerUp"]
    # Without a way to restart (these two runs) the station refuses the reset.
    assert [r["result"]["status"] for r in csms.results()] == ["Accepted", "Rejected", "Rejected"]
