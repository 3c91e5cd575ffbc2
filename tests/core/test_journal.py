"""The journal on real SQLite files: schema and migrations, what a step writes, the outbox in
the closing transaction, card data kept out, and broken files reported without damage."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from doubles import paths
from doubles.builders import FULL_PAN, Driver, at, card
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.journal.codec import CodecError, dumps, loads
from kiosk.journal.schema import MIGRATIONS, SCHEMA_VERSION
from kiosk.journal.store import Journal, JournalError, JournalFull
from kiosk.session import events as ev
from kiosk.session.machine import step
from kiosk.session.model import Session, mask_pan


def journaled(tmp_path: Path, setup: paths.Setup) -> tuple[Journal, Driver]:
    """Run a machine path and journal every step, as the runtime does."""
    journal = Journal.open(tmp_path / "j.db")

    class Recording(Driver):
        def __call__(self, event: ev.Event) -> tuple:  # type: ignore[type-arg]
            before = self.st
            commands = Driver.__call__(self, event)
            journal.record_step(event, before, self.st, commands)
            return commands

    d = Recording()
    setup(d)
    return journal, d


def test_new_journal_is_wal_full_sync_and_current(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.db")
    assert journal.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    assert journal.query("PRAGMA journal_mode") == [("wal",)]
    assert journal.query("PRAGMA synchronous") == [(2,)]  # FULL
    journal.close()


def test_migrates_an_old_journal_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    conn.execute(
        "INSERT INTO outbox (kind, idempotency_key, payload_json, created_at) "
        "VALUES ('session', 'session:old', '{}', '2026-01-01')"
    )
    conn.commit()
    conn.close()
    journal = Journal.open(path)
    assert journal.schema_version == SCHEMA_VERSION
    assert [r.idempotency_key for r in journal.outbox_pending()] == ["session:old"]
    indexes = {r[0] for r in journal.query("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"sessions_open", "outbox_pending"} <= indexes
    journal.close()


def test_refuses_a_journal_from_a_newer_version(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    Journal.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(JournalError, match="newer than this evkiosk"):
        Journal.open(path)


def test_garbage_file_is_reported_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    path.write_bytes(b"this is not a journal\n" * 200)
    before = path.read_bytes()
    with pytest.raises(JournalError) as err:
        Journal.open(path)
    assert str(path) in str(err.value) and "left as it is" in str(err.value)
    assert path.read_bytes() == before


def test_damaged_pages_are_reported_and_the_file_kept(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    journal, _ = journaled(tmp_path, paths.receipt)
    journal.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[2 * page : 3 * page] = b"\xa5" * page  # scribble over a b-tree page
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(JournalError) as err:
        Journal.open(path)
    assert str(path) in str(err.value)
    assert path.read_bytes() == before


def test_unreadable_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="does not exist"):
        Journal.open(tmp_path / "missing" / "j.db")


def test_full_disk_keeps_what_was_written_and_says_so(tmp_path: Path) -> None:
    journal, d = journaled(tmp_path, paths.paying_card)
    sessions_before = journal.query("SELECT session_id, phase, state_json FROM sessions")
    page_count = journal.query("PRAGMA page_count")[0][0]
    # SQLite's own size limit produces the same SQLITE_FULL a full disk does.
    journal.query(f"PRAGMA max_page_count = {page_count}")
    before = d.st
    big = "x" * 20000
    event = ev.TerminalText(at(30), paths.SID, big)
    d.st, commands = step(before, event)
    with pytest.raises(JournalFull, match="disk full") as err:
        journal.record_step(event, before, d.st, commands)
    assert "intact" in str(err.value)
    assert journal.query("SELECT session_id, phase, state_json FROM sessions") == sessions_before
    journal.close()
    reopened = Journal.open(tmp_path / "j.db")
    assert [s.session_id for s in reopened.open_sessions()] == [paths.SID]
    reopened.close()


def test_a_step_writes_transitions_authorisation_readings_and_intents(tmp_path: Path) -> None:
    journal, _ = journaled(tmp_path, paths.receipt)
    phases = [r[0] for r in journal.query("SELECT to_phase FROM transitions ORDER BY id")]
    assert phases == [
        "price_shown",
        "choosing_payment",
        "paying_card",
        "waiting_for_plug",
        "starting",
        "charging",
        "stopping",
        "settling",
        "receipt",
    ]
    kinds = [r[0] for r in journal.query("SELECT kind FROM commands ORDER BY id")]
    assert kinds == [
        "PreauthoriseCard",
        "BeginMetering",
        "EnableCharging",
        "DisableCharging",
        "SettleCard",
        "CloseSession",
    ]
    # The reading after the driver's Stop only confirms the switch-off: it is not billed.
    assert [r.reading.energy_import_wh for r in journal.readings(paths.SID)] == [1000, 1500]
    assert journal.query("SELECT receipt_no, masked_pan FROM authorisations") == [
        (231, "541333******1234")
    ]
    (record,) = journal.outbox_pending()
    assert record.idempotency_key == f"session:{paths.SID}"
    assert journal.query("SELECT closed_at IS NOT NULL FROM sessions") == [(1,)]
    assert journal.open_sessions() == []
    journal.close()


def test_outbox_and_close_are_one_transaction(tmp_path: Path) -> None:
    """If the close cannot be written, neither can the report (and the other way round)."""
    journal, d = journaled(tmp_path, paths.settling)
    conn = journal._conn
    conn.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'boom'); END"
    )
    before = d.st
    event = ev.SettleDone(at(12), paths.SID, card(amount=306))
    after, commands = step(before, event)
    with pytest.raises(JournalError):
        journal.record_step(event, before, after, commands)
    assert journal.query("SELECT closed_at FROM sessions") == [(None,)]
    assert journal.outbox_pending() == []
    journal.close()


def test_card_results_never_store_a_full_pan(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.db")
    journal.record_card_result("S1", "preauth", card(pan=FULL_PAN))
    (stored,) = journal.pending_card_results()
    assert stored.result.masked_pan == "411111******1111"
    journal.close()
    assert FULL_PAN.encode() not in (tmp_path / "j.db").read_bytes()
    wal = tmp_path / "j.db-wal"
    assert not wal.exists() or FULL_PAN.encode() not in wal.read_bytes()


@given(st.text(alphabet="0123456789 -*", max_size=30))
@settings(max_examples=100)
def test_mask_pan_never_reveals_more_than_ten_digits(text: str) -> None:
    masked = mask_pan(text)
    assert masked is not None and len(masked) == len(text)
    assert sum(ch.isdigit() for ch in masked) <= 10


def test_session_codec_round_trips_every_phase(tmp_path: Path) -> None:
    for setup in (paths.paying_qr, paths.charging, paths.settle_unknown, paths.receipt):
        d = Driver()
        setup(d)
        for s in d.st.sessions:
            assert loads(Session, dumps(s)) == s


def test_codec_refuses_a_mangled_row() -> None:
    d = Driver()
    paths.charging(d)
    text = dumps(d.st.sessions[0]).replace('"charging"', '"dancing"')
    with pytest.raises((CodecError, ValueError)):
        loads(Session, text)


def test_a_session_row_that_cannot_be_restored_is_named_and_kept(tmp_path: Path) -> None:
    journal, _ = journaled(tmp_path, paths.charging)
    journal.close()
    conn = sqlite3.connect(tmp_path / "j.db")
    conn.execute('UPDATE sessions SET state_json = \'{"phase": "dancing"}\'')
    conn.commit()
    conn.close()
    reopened = Journal.open(tmp_path / "j.db")
    with pytest.raises(JournalError, match=f"session {paths.SID} cannot be restored"):
        reopened.open_sessions()
    assert reopened.query("SELECT state_json FROM sessions") == [('{"phase": "dancing"}',)]
    reopened.close()


def test_outbox_records_are_retried_when_due_and_dropped_when_delivered(tmp_path: Path) -> None:
    journal, _ = journaled(tmp_path, paths.receipt)
    (record,) = journal.outbox_pending()
    journal.outbox_failed(record.id, "connection refused", at(600))
    assert journal.outbox_pending(due=at(599)) == []
    (again,) = journal.outbox_pending(due=at(600))
    assert again.attempts == 1
    journal.outbox_delivered(record.id, 201)
    assert journal.outbox_pending() == []
    journal.close()
