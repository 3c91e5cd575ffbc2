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


def test_end_of_day_runs_by_itself_at_the_configured_time_after_the_open_hold(
    backend: BackendProcess, access: BackendAccess, workdir: Path
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from kiosk.snapshot import ChooseConnector, ConfirmPrice, PayByCard, StopCharging
    from tests.e2e.rig import now_utc

    berlin = ZoneInfo("Europe/Berlin")
    start = now_utc().replace(second=0)
    if (start + timedelta(minutes=15)).astimezone(berlin).date() != start.astimezone(berlin).date():
        start -= timedelta(minutes=20)  # keep the whole run (about 11 minutes) on one local day
    at = (start + timedelta(minutes=2)).astimezone(berlin).time().replace(second=0, microsecond=0)
    with kiosk(workdir, access, hold=3000, start=start, end_of_day=at) as k:
        k.station.sims["1"].plug_in(soc=0.3)
        k.advance(2)
        k.send(ChooseConnector("1"))
        sid = k.focus_id()
        k.send(ConfirmPrice(sid))
        k.send(PayByCard(sid))
        k.advance(300, step=10)  # past the end-of-day time, the hold still open
        runs = k.station.runtime.journal.query("SELECT outcome FROM end_of_day")
        assert runs == []  # postponed: a pre-auth is open
        k.send(StopCharging(sid))
        k.advance(360, step=10)  # the next check after the retry interval
        runs = k.station.runtime.journal.query("SELECT outcome, business_day FROM end_of_day")
        assert [r[0] for r in runs] == ["approved"]
        assert (
            runs[0][1]
            == datetime.fromisoformat(k.clock.now().isoformat())
            .astimezone(berlin)
            .date()
            .isoformat()
        )
        assert k.snap.reporting is not None and k.snap.reporting.end_of_day_mismatch is None


def test_a_hold_nobody_owns_is_reversed_before_end_of_day_and_reported_as_a_payment(
    backend: BackendProcess, access: BackendAccess, workdir: Path
) -> None:
    import sqlite3

    with kiosk(workdir, access, hold=3000) as k:
        terminal = k.station.terminal
        assert terminal is not None
        done = []

        def orphan() -> None:  # a pre-auth whose kiosk record was lost
            terminal.preauthorise(4000, "EUR", "lost", lambda r: None, lambda t: None)
            done.append(1)

        k.station.runtime.call(orphan, "terminal")
        k.advance(2)
        assert done == [1]
        k.station.runtime.run_end_of_day()
        k.advance(3)
        assert k.snap.reporting is not None and k.snap.reporting.outbox_queued == 0
        ledger = k.station.terminal_sim.ledger() if k.station.terminal_sim else {}
        assert ledger["open"] == {}  # type: ignore[comparison-overlap]
    with sqlite3.connect(backend.db.removeprefix("sqlite:///")) as conn:
        rows = conn.execute(
            "SELECT status, session_pk FROM payments WHERE method = 'card' AND status = 'released'"
        ).fetchall()
    assert rows == [("released", None)]


def test_a_reinstalled_station_reports_its_own_orphan_reversal_and_end_of_day(
    backend: BackendProcess, access: BackendAccess, workdir: Path
) -> None:
    # The journal made anew (a new SD card, a reinstall) counts its rows from 1 again: the
    # records keyed by row ids must not repeat the old journal's keys at the backend, or they
    # are refused as a different request under a used key and parked for good.
    import sqlite3

    db = backend.db.removeprefix("sqlite:///")
    orphans = (
        "SELECT id, authorized_minor FROM payments WHERE method = 'card' AND status = 'released'"
        " AND session_pk IS NULL ORDER BY id"
    )
    totals = "SELECT count(*) FROM terminal_totals"
    with sqlite3.connect(db) as conn:
        before = {pk for pk, _ in conn.execute(orphans)}
        (totals_before,) = conn.execute(totals).fetchone()
    parked = []
    for n, amount in enumerate((4000, 2500)):
        with kiosk(workdir / f"install-{n}", access, hold=3000) as k:
            terminal = k.station.terminal
            assert terminal is not None

            def orphan(t: object = terminal, minor: int = amount) -> None:
                t.preauthorise(minor, "EUR", "lost", lambda r: None, lambda _: None)  # type: ignore[attr-defined]

            k.station.runtime.call(orphan, "terminal")
            k.advance(2)
            k.station.runtime.run_end_of_day()
            k.advance(3)
            parked += k.station.runtime.journal.query(
                "SELECT idempotency_key, ack_json FROM outbox WHERE parked_at IS NOT NULL"
            )
            assert k.snap.reporting is not None and k.snap.reporting.outbox_queued == 0
    assert parked == []
    with sqlite3.connect(db) as conn:
        new = [minor for pk, minor in conn.execute(orphans) if pk not in before]
        (totals_after,) = conn.execute(totals).fetchone()
    assert len(new) == 2  # each installation's orphan reversal arrived
    assert totals_after - totals_before == 2  # each installation's end-of-day arrived
