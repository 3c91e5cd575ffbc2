"""A card session end to end: ZVT simulator, Modbus meter and controller simulators, the
kiosk's runtime and outbox, a real backend process; the backend has it once, with the kiosk's
amounts, and reconciles clean."""

from __future__ import annotations

from pathlib import Path

from drivers.station import BackendAccess
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart, ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.rig import BackendProcess, Kiosk, kiosk


def charge_by_card(k: Kiosk, seconds: int = 600) -> str:
    sim = k.station.sims["1"]
    sim.plug_in(soc=0.3)
    k.advance(2)
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    k.send(ConfirmPrice(sid))
    k.send(PayByCard(sid))
    k.advance(seconds, step=10)
    assert k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING
    k.send(StopCharging(sid))
    k.advance(5)
    assert k.snap.focus is not None and k.snap.focus.phase is Phase.RECEIPT
    return sid


def test_card_session_reaches_the_backend_once_and_reconciles_clean(
    backend: BackendProcess, access: BackendAccess, workdir: Path
) -> None:
    with kiosk(workdir, access, hold=5000) as k:
        sid = charge_by_card(k)
        receipt = k.snap.focus.receipt if k.snap.focus else None
        assert receipt is not None and receipt.total.minor > 0
        k.send(BackToStart(sid))
        k.advance(2)
        reporting = k.snap.reporting
        assert reporting is not None
        assert reporting.outbox_queued == 0 and reporting.backend_online is True
        journal = k.station.runtime.journal
        (row,) = journal.query(
            "SELECT delivered_at, ack_json FROM outbox WHERE idempotency_key = ?",
            (f"session:{sid}",),
        )
        assert row[0] is not None and '"status":"accepted"' in row[1]
        day = k.clock.now()
    (stored,) = [s for s in backend.sessions() if s["session_id"] == sid]
    assert stored["reported_minor"] == stored["computed_minor"] == receipt.total.minor
    assert stored["meter_end_wh"] - stored["meter_start_wh"] == receipt.energy_wh
    assert stored["payment_method"] == "card"
    report = backend.reconciliation(day)
    assert report["clean"] is True, report
