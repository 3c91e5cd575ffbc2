"""A QR session on a signing meter (EM580 simulator) end to end: the backend captures the cost
of the signed energy, stores the record, and it verifies (kiosk verifier and pyocmf). Its own
module: a fresh backend process (see test_signed_billing for the card sessions)."""

from __future__ import annotations

from pathlib import Path

from drivers.station import BackendAccess
from kiosk.ocmf import parse_ocmf
from kiosk.ocmf.check import signed_energy_wh
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart
from tests.e2e.rig import BackendProcess
from tests.e2e.signed_rig import (
    backend_records,
    charge_to_stop,
    delivered,
    independently_verified,
    meter,
    session_state,
    signed_kiosk,
)


def test_qr_session_is_captured_for_the_signed_energy(
    backend: BackendProcess, access: BackendAccess, workdir: Path
) -> None:
    with signed_kiosk(workdir, access, hold=3000) as k:
        sid = charge_to_stop(k, qr=True)
        k.advance(5)
        focus = k.snap.focus
        assert focus is not None and focus.phase is Phase.RECEIPT, focus
        receipt = focus.receipt
        assert receipt is not None
        (text,) = meter(k).records
        signed = int(signed_energy_wh(parse_ocmf(text)))
        state = session_state(k, sid)
        assert state.energy_wh == signed == receipt.energy_wh
        assert state.settlement is not None
        assert state.settlement.final_minor == receipt.total.minor == round(signed * 50 / 1000)
        k.send(BackToStart(sid))
        delivered(k)
        day = k.clock.now()
    (stored,) = [s for s in backend.sessions() if s["session_id"] == sid]
    assert stored["payment_method"] == "link"
    assert stored["meter_end_wh"] - stored["meter_start_wh"] == signed
    assert stored["reported_minor"] == stored["computed_minor"] == receipt.total.minor
    (kept,) = backend_records(backend, sid)
    assert kept["verified"] and kept["signed_energy_wh"] == signed
    independently_verified(kept["record"], kept["public_key"])
    report = backend.reconciliation(day)
    assert report["clean"] is True, report
