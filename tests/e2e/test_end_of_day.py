"""End-of-day with the ZVT simulator: the terminal's totals agree with the journal per brand,
reach the backend through the outbox and reconcile; a booking the journal never saw is raised
in the snapshot for the service menu."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from drivers.station import BackendAccess
from drivers.zvt_sim.ledger import Entry
from tests.e2e.rig import BackendProcess, kiosk


def test_end_of_day_agrees_reaches_the_backend_and_a_planted_booking_is_raised(
    backend: BackendProcess, access: BackendAccess, workdir: Path
) -> None:
    with kiosk(workdir, access, hold=3000) as k:
        k.charge_by_card(seconds=120)
        k.charge_by_card(seconds=240)
        k.station.runtime.run_end_of_day()
        k.advance(2)
        reporting = k.snap.reporting
        assert reporting is not None and reporting.end_of_day_mismatch is None
        assert reporting.outbox_queued == 0
        (totals,) = k.station.runtime.journal.query("SELECT totals_json FROM end_of_day")
        assert '"count":2' in totals[0]

        # A booking on the terminal the kiosk never journaled (another ECR, a manual sale).
        assert k.station.terminal_sim is not None
        ledger = k.station.terminal_sim.state.ledger
        ledger.state.batch.append(Entry(999, 999, 1234, 0x0A, "VISA", "4111******1111", "1"))
        k.clock.advance(timedelta(days=1))
        k.station.runtime.run_end_of_day()
        k.advance(2)
        mismatch = k.snap.reporting.end_of_day_mismatch if k.snap.reporting else None
        assert mismatch is not None and "terminal 1/1234, journal 0/0" in mismatch
        day = k.clock.now()
    with backend.api() as api:
        report = api.get(
            "/reconciliation",
            params={
                "from": (day - timedelta(days=2)).date().isoformat(),
                "to": day.date().isoformat(),
                "format": "json",
            },
        ).json()
    classes = [d["class"] for row in report["days"] for d in row["discrepancies"]]
    # The planted booking is the only discrepancy: the batch total exceeds the captures.
    assert classes == ["batch_total_mismatch"], [r["discrepancies"] for r in report["days"]]
    print(f"\nend-of-day: runs=2 mismatches_raised=1 backend_discrepancies={classes}")
