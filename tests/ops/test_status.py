"""evkiosk status: open sessions and holds, outbox, recent sessions, from journals the core
wrote; read-only, also while a kiosk process has the journal open."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from doubles import paths
from doubles.builders import HOLD, at

from kiosk.cli.main import main
from kiosk.journal.store import Journal
from kiosk.ops.summary import summarise
from tests.ops.journals import Writer, journal_with


def test_a_charging_session_shows_as_open_with_its_hold(tmp_path: Path) -> None:
    path = journal_with(tmp_path, paths.charging)
    s = summarise(path, now=at(68))
    [open_session] = s.open_sessions
    assert open_session["session_id"] == paths.SID and open_session["phase"] == "charging"
    assert open_session["idle_s"] == 60  # last step at t=8
    [hold] = s.holds
    assert (hold["amount_minor"], hold["currency"], hold["receipt_no"]) == (HOLD, "EUR", 231)
    assert hold["masked_pan"] == "541333******1234"
    assert s.outbox["queued"] == 0
    assert s.devices[0]["connector_id"] == "1" and s.devices[0]["energy_wh"] == 1500


def test_a_closed_session_waits_in_the_outbox_with_its_last_error(tmp_path: Path) -> None:
    path = journal_with(tmp_path, paths.receipt)
    journal = Journal.open(path)
    [record] = journal.outbox_pending()
    journal.outbox_failed(record.id, "connection refused", at(600))
    journal.close()
    s = summarise(path, now=at(12) + timedelta(hours=2))
    assert s.open_sessions == [] and s.holds == []
    assert s.outbox["queued"] == 1 and s.outbox["oldest_queued_age_s"] == 7200
    assert s.outbox["last_error"]["error"] == "connection refused"
    assert s.outbox["last_error"]["attempts"] == 1
    [recent] = s.recent_sessions
    # the cost agreed at Stop, over the billed interval (the reading after switch-off ends it)
    assert recent["cost_minor"] == 300 and recent["energy_wh"] == 500
    assert s.last_end_of_day is None


def test_cli_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = journal_with(tmp_path, paths.charging)
    assert main(["status", "--journal", str(path)]) == 0
    out = capsys.readouterr().out
    assert "kiosk: no process has it open" in out
    assert "Open sessions: 1" in out and "Open holds: 1 (50.00 EUR)" in out
    assert "Outbox: 0 queued" in out and "Last end-of-day: none in the journal" in out
    assert main(["status", "--journal", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["holds"][0]["amount_minor"] == HOLD
    assert main(["status", "--journal", str(tmp_path / "none.db")]) == 2


def test_reads_while_the_kiosk_writes(tmp_path: Path) -> None:
    path = journal_with(tmp_path, paths.charging)
    writer = Writer(path, 300)
    try:
        s = summarise(path)
        assert len(s.open_sessions) == 1
        assert [f"pid {writer.proc.pid}" in p for p in s.kiosk_processes] == [True]
        assert writer.readline() == "written"
        assert summarise(path).devices[-1]["terminal"]["kind"] == "preauth"
    finally:
        writer.stop()


def test_parked_records_and_the_last_end_of_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = journal_with(tmp_path, paths.receipt)
    journal = Journal.open(path)
    [record] = journal.outbox_pending()
    journal.outbox_parked(record.id, 422, {"detail": "tariff unknown"}, at=at(700))
    assert journal.outbox_add("terminal_totals", "eod:2026-03-01", {"total_minor": 306})
    journal.close()
    # No journal method writes end_of_day rows yet; the row has the table's documented shape.
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO end_of_day (business_day, at, outcome, terminal_id, mismatch_json) "
        "VALUES ('2026-03-01', '2026-03-01T23:00:00+00:00', 'approved', '52523535', "
        "'{\"MasterCard\": [306, 0]}')"
    )
    conn.commit()
    conn.close()
    s = summarise(path, now=at(800))
    assert s.outbox["queued"] == 1  # the totals record; the parked session is not queued
    [parked] = s.outbox["parked"]
    assert parked["record"] == f"session:{paths.SID}" and parked["error"] == "refused 422"
    assert s.last_end_of_day is not None and s.last_end_of_day["business_day"] == "2026-03-01"
    assert main(["status", "--journal", str(path)]) == 0
    out = capsys.readouterr().out
    assert "PARKED" in out and "TERMINAL AND JOURNAL DIFFER" in out


def test_a_journal_of_the_first_schema_is_summarised(tmp_path: Path) -> None:
    """Right after an upgrade, before the kiosk ran: no parking columns, no end_of_day table."""
    from kiosk.journal.schema import MIGRATIONS

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    conn.execute(
        "INSERT INTO outbox (kind, idempotency_key, payload_json, created_at, last_error) "
        "VALUES ('session', 'session:old', '{}', '2026-01-01T00:00:00+00:00', 'timeout')"
    )
    conn.commit()
    conn.close()
    s = summarise(path, now=at(0))
    assert s.schema_version == 1
    assert s.outbox["queued"] == 1 and s.outbox["parked"] == []
    assert s.outbox["last_error"]["error"] == "timeout"
    assert s.last_end_of_day is None
