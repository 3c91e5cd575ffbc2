"""Terminal results journaled but never known acknowledged: recovery asks the terminal before it
acts on them, and the orphan sweep never reverses the hold of a session booked on it."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from doubles.devices import locked_json
from doubles.rig import Rig
from test_recovery import booked, phase, restart, start_charging

from kiosk.devices import CardResult, PaymentOutcome
from kiosk.journal.schema import MIGRATIONS, SCHEMA_VERSION
from kiosk.journal.store import Journal, StoredCardResult
from kiosk.snapshot import Phase, StopCharging
from kiosk.unacked import Verdict, judge

HOLD = 231
OPEN = frozenset({HOLD})
NONE_OPEN: frozenset[int] = frozenset()


def stored(kind: str, *, acknowledged: bool, outcome: PaymentOutcome) -> StoredCardResult:
    receipt = HOLD if kind == "preauth" else 232
    result = CardResult(outcome, 1200, "EUR", receipt_no=receipt)
    return StoredCardResult(1, "S1", kind, result, acknowledged)


@pytest.mark.parametrize(
    ("kind", "acknowledged", "outcome", "open_now", "expected"),
    [
        # acknowledged, or not approved: taken as journaled
        ("preauth", True, PaymentOutcome.APPROVED, NONE_OPEN, Verdict.USE),
        ("settle", True, PaymentOutcome.APPROVED, OPEN, Verdict.USE),
        ("settle", False, PaymentOutcome.ERROR, OPEN, Verdict.USE),
        # a pre-auth the terminal kept is open; one it dropped is not
        ("preauth", False, PaymentOutcome.APPROVED, OPEN, Verdict.USE),
        ("preauth", False, PaymentOutcome.APPROVED, NONE_OPEN, Verdict.DROPPED),
        ("preauth", False, PaymentOutcome.APPROVED, None, Verdict.USE),  # owned, then released
        # a settle the terminal kept closed the hold; one it dropped left it open
        ("settle", False, PaymentOutcome.APPROVED, NONE_OPEN, Verdict.USE),
        ("settle", False, PaymentOutcome.APPROVED, OPEN, Verdict.DROPPED),
        ("settle", False, PaymentOutcome.APPROVED, None, Verdict.ASK),
    ],
)
def test_which_journaled_results_recovery_acts_on(
    kind: str,
    acknowledged: bool,
    outcome: PaymentOutcome,
    open_now: frozenset[int] | None,
    expected: Verdict,
) -> None:
    result = stored(kind, acknowledged=acknowledged, outcome=outcome)
    assert judge(result, HOLD, open_now) is expected


def reopen(bank_file: Path, receipt: int) -> None:
    """The terminal dropped the booking (its acknowledgement never arrived): the hold is open."""
    with locked_json(bank_file, {}) as bank:
        hold = bank["holds"][str(receipt)]
        hold.update(status="open", booked=None, ops=["preauth"])


def test_the_sweep_never_reverses_the_hold_of_a_session_closed_as_booked(tmp_path: Path) -> None:
    rig = Rig(tmp_path).start()
    sid = start_charging(rig)
    rig.send(StopCharging(sid))
    rig.advance(5)
    assert phase(rig, sid) is Phase.RECEIPT
    (receipt,) = rig.journal.query(
        "SELECT receipt_no FROM authorisations WHERE session_id = ?", (sid,)
    )[0]
    reopen(rig.terminal.path, receipt)
    rig.rt.sweep_orphans()
    hold, _ = booked(rig, sid)
    assert hold["status"] == "open" and hold["ops"] == ["preauth"]  # left for the operator
    reversals = "SELECT count(*) FROM commands WHERE kind = 'ReverseOrphanHold'"
    assert rig.journal.query(reversals) == [(0,)]
    # After an approved end-of-day the terminal had no hold open, so a receipt number seen open
    # again is a new hold (the numbers wrap), no longer this session's: it is swept.
    later = rig.clock.now() + timedelta(minutes=1)
    rig.journal.record_end_of_day(later.date(), later, outcome="approved", terminal_id="T")
    rig.rt.sweep_orphans()
    hold, _ = booked(rig, sid)
    assert hold["status"] == "reversed"
    rig.stop()


def test_an_unacknowledged_booking_is_not_trusted_while_the_terminal_is_silent(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path).start()
    sid = start_charging(rig)

    def die_after_the_settle_result() -> None:
        kinds = rig.journal.query("SELECT kind FROM card_results ORDER BY id")
        if kinds == [("preauth",), ("settle",)]:
            raise RuntimeError("power lost")  # stands in for the kill: no ACK follows

    rig.journal.after_commit = die_after_the_settle_result
    rig.send(StopCharging(sid))
    rig.advance(5)
    rig.journal.after_commit = None
    assert phase(rig, sid) is Phase.SETTLING
    rig.terminal.fault("offline")
    rig = restart(rig)
    rig.advance(60, step=10)
    assert phase(rig, sid) is Phase.SETTLING  # not closed on a result nobody confirmed
    rig.terminal.fault("offline", False)
    rig.advance(40, step=10)
    hold, cost = booked(rig, sid)
    assert hold["ops"] == ["preauth", f"settle:{cost}"]  # booked once, never again
    assert phase(rig, sid) is Phase.RECEIPT
    rig.stop()


def test_results_in_an_older_journal_are_not_known_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    conn = sqlite3.connect(path)
    conn.executescript("".join(f"{m};" for m in MIGRATIONS[:3]) + "PRAGMA user_version = 3;")
    conn.execute(
        "INSERT INTO card_results (session_id, kind, outcome, amount_minor, currency, "
        "receipt_no, reference, at) VALUES ('S1', 'settle', 'approved', 1200, 'EUR', 7, 'S1', "
        "'2026-03-02T09:00:00+00:00')"
    )
    conn.commit()
    conn.close()
    journal = Journal.open(path)
    assert journal.schema_version == SCHEMA_VERSION
    (pending,) = journal.pending_card_results()
    assert pending.acknowledged is False  # so recovery asks the terminal before using it
    assert pending.result.reference == "S1" and pending.result.receipt_text == ()
    journal.close()
