"""Sessions on a signing meter (EM580 simulator) end to end, paid by card: billed from the
signed readings. The kiosk begins the meter's signed transaction before charging, ends it
after, journals the record and books the cost of the signed energy; the backend stores the
record and it verifies against the simulator's key (the kiosk's own verifier and pyocmf);
booked energy equals signed energy in the journal, the terminal's booking and the backend.
And a failed end of the signed transaction: billed by the operator's rule, flagged."""

from __future__ import annotations

import json
from pathlib import Path

from drivers.station import BackendAccess
from kiosk.ocmf import parse_ocmf
from kiosk.ocmf.check import signed_energy_wh
from kiosk.ocmf.crypto import verify
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart
from tests.e2e.rig import BackendProcess
from tests.e2e.signed_rig import (
    EVSE,
    backend_records,
    charge_to_stop,
    delivered,
    independently_verified,
    meter,
    ocmf_rows,
    session_state,
    signed_kiosk,
)


def test_card_session_is_booked_from_the_signed_energy(
    backend: BackendProcess, access: BackendAccess, workdir: Path
) -> None:
    with signed_kiosk(workdir, access) as k:
        sid = charge_to_stop(k)
        k.advance(5)
        focus = k.snap.focus
        assert focus is not None and focus.phase is Phase.RECEIPT, focus
        receipt = focus.receipt
        assert receipt is not None and receipt.total.minor > 0
        sim = meter(k)
        (shown,) = k.snap.signing_meters  # the service menu's view of the meter
        assert shown.signing and shown.public_key == sim.public_key and shown.firmware
        (text,) = sim.records
        record = parse_ocmf(text)
        assert verify(record, sim.public_key)
        signed = int(signed_energy_wh(record))
        assert signed > 0
        assert record.charge_point == EVSE
        assert record.tariff_text == k.station.runtime.signed.tariff_text(session_state(k, sid))
        (row,) = ocmf_rows(k, sid)
        assert row[0] == text and row[1] == sim.public_key and row[2] == 1 and row[3] == signed
        assert row[5] is not None  # bound at the session's close
        state = session_state(k, sid)
        assert state.signed is not None and state.signed.signed and state.energy_wh == signed
        assert receipt.energy_wh == signed
        booked = state.settlement
        assert booked is not None and booked.final_minor == receipt.total.minor
        # 0.50 EUR/kWh, step 1 Wh: the signed energy's cost, to the cent
        assert booked.final_minor == round(signed * 50 / 1000)
        (card,) = k.station.runtime.journal.query(
            "SELECT amount_minor FROM card_results WHERE session_id = ? AND kind = 'settle'",
            (sid,),
        )
        assert card[0] == booked.final_minor  # the terminal booked the signed amount
        k.send(BackToStart(sid))
        delivered(k)
        day = k.clock.now()
    (stored,) = [s for s in backend.sessions() if s["session_id"] == sid]
    assert stored["meter_end_wh"] - stored["meter_start_wh"] == signed
    assert stored["reported_minor"] == stored["computed_minor"] == receipt.total.minor
    (kept,) = backend_records(backend, sid)
    assert kept["record"] == text and kept["verified"] and kept["problems"] == ""
    assert kept["signed_energy_wh"] == signed
    independently_verified(kept["record"], kept["public_key"])
    assert kept["public_key"] == sim.public_key
    report = backend.reconciliation(day)
    assert report["clean"] is True, report


def test_a_failed_stop_is_billed_by_the_rule_and_flagged(
    backend: BackendProcess, access: BackendAccess, workdir: Path
) -> None:
    with signed_kiosk(workdir, access) as k:
        sid = charge_to_stop(k, seconds=300)
        meter(k).inject_signing("stop_fails")
        k.advance(5)
        focus = k.snap.focus
        assert focus is not None and focus.phase is Phase.FAILED, focus
        state = session_state(k, sid)
        assert state.signed is not None and not state.signed.signed
        assert "no_record" in state.signed.flags
        assert state.settlement is not None and state.settlement.final_minor == 0
        (row,) = ocmf_rows(k, sid)
        assert row[0] is None and json.loads(row[4]) == ["no_record"]
