"""End-of-day on the kiosk: when it is due, the comparison per brand, and what is recorded
and queued for the backend (real journal files)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.devices import (
    BrandTotal,
    CardResult,
    EndOfDayTotals,
    PaymentOutcome,
    TerminalStatus,
)
from kiosk.eod.compare import compare, journal_bookings
from kiosk.eod.runner import EndOfDaySchedule, run_end_of_day
from kiosk.journal.store import Journal

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 21:00 in Berlin


def booking(journal: Journal, sid: str, brand: str, amount: int) -> None:
    journal.record_card_result(
        sid,
        "settle",
        CardResult(PaymentOutcome.APPROVED, amount, "EUR", receipt_no=1, card_brand=brand),
    )


class Terminal:
    def __init__(self, totals: EndOfDayTotals) -> None:
        self.totals = totals
        self.closed = 0

    def status(self) -> TerminalStatus:
        return TerminalStatus(True, "52523535", 0, "ready")

    def end_of_day(self) -> EndOfDayTotals:
        self.closed += 1
        return self.totals


def test_brands_that_agree_give_no_difference_and_a_missing_one_is_named() -> None:
    booked = [BrandTotal("MasterCard", 2, 1500), BrandTotal("girocard", 1, 700)]
    same = EndOfDayTotals(PaymentOutcome.APPROVED, 2200, "EUR", tuple(booked))
    assert compare(same, booked) == []
    extra = EndOfDayTotals(
        PaymentOutcome.APPROVED, 3100, "EUR", (*booked, BrandTotal("VISA", 1, 900))
    )
    (diff,) = compare(extra, booked)
    assert diff.brand == "VISA" and diff.journal == BrandTotal("VISA", 0, 0)
    no_breakdown = EndOfDayTotals(PaymentOutcome.APPROVED, 2100, "EUR")
    (total,) = compare(no_breakdown, booked)
    assert total.brand == "*" and total.journal.amount_minor == 2200


def test_journal_counts_one_booking_per_session_since_the_last_run(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.db")
    booking(journal, "S1", "MasterCard", 500)
    booking(journal, "S1", "MasterCard", 500)  # the same booking recorded again after a query
    booking(journal, "S2", "girocard", 300)
    journal.record_card_result("S3", "settle", CardResult(PaymentOutcome.APPROVED, 0, "EUR"))
    booked, last = journal_bookings(journal, 0)
    assert booked == [BrandTotal("MasterCard", 1, 500), BrandTotal("girocard", 1, 300)]
    assert journal_bookings(journal, last)[0] == []


def test_a_booking_the_terminal_dropped_is_not_counted(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.db")
    booking(journal, "S1", "MasterCard", 500)
    (dropped,) = journal.query("SELECT MAX(id) FROM card_results")[0]
    journal.mark_card_result_consumed(int(dropped), dropped=True)
    booking(journal, "S2", "girocard", 300)
    booked, _ = journal_bookings(journal, 0)
    assert booked == [BrandTotal("girocard", 1, 300)]


def test_due_once_a_day_after_the_configured_local_time(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.db")
    schedule = EndOfDaySchedule(journal, BERLIN, time(22, 30))
    assert schedule.due(T0) is None  # 21:00 local
    late = T0 + timedelta(hours=1, minutes=31)  # 22:31 local
    assert schedule.due(late) == date(2026, 3, 2)
    assert schedule.due(late + timedelta(minutes=1)) is None  # retried only after a while
    terminal = Terminal(EndOfDayTotals(PaymentOutcome.APPROVED, 0, "EUR"))
    run_end_of_day(journal, terminal, date(2026, 3, 2), late, lambda: None)
    assert schedule.due(late + timedelta(minutes=10)) is None  # done for the day
    assert schedule.due(late + timedelta(days=1)) == date(2026, 3, 3)


def test_an_open_preauth_postpones_the_run(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.db")
    journal.record_card_result(
        "S9", "preauth", CardResult(PaymentOutcome.APPROVED, 5000, "EUR", receipt_no=9)
    )
    schedule = EndOfDaySchedule(journal, BERLIN, time(20, 0))
    assert schedule.due(T0 + timedelta(hours=1)) is None
    (consumed,) = journal.query("SELECT id FROM card_results")
    journal.mark_card_result_consumed(consumed[0])
    assert schedule.due(T0 + timedelta(hours=1, minutes=6)) == date(2026, 3, 2)


def test_no_caller_closes_the_batch_while_a_hold_is_open(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.db")
    journal.record_card_result(
        "S9", "preauth", CardResult(PaymentOutcome.APPROVED, 5000, "EUR", receipt_no=9)
    )
    terminal = Terminal(EndOfDayTotals(PaymentOutcome.APPROVED, 0, "EUR"))
    swept: list[int] = []
    result = run_end_of_day(journal, terminal, date(2026, 3, 2), T0, lambda: swept.append(1))
    assert terminal.closed == 0 and swept == []  # the terminal was not asked at all
    assert result.outcome == "postponed" and result.notice is not None
    assert "not run: 1 card hold(s) still open" in result.notice
    assert journal.outbox_pending() == [] and journal.query("SELECT 1 FROM end_of_day") == []


def test_a_difference_is_recorded_queued_and_raised(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.db")
    booking(journal, "S1", "MasterCard", 500)
    totals = EndOfDayTotals(
        PaymentOutcome.APPROVED,
        1400,
        "EUR",
        (BrandTotal("MasterCard", 1, 500), BrandTotal("VISA", 1, 900)),
        receipt_from=1,
        receipt_to=2,
        trace_no=77,
    )
    swept = []
    result = run_end_of_day(
        journal, Terminal(totals), date(2026, 3, 2), T0, lambda: swept.append(1)
    )
    assert swept == [1]  # orphan holds were reversed before the batch was closed
    assert result.notice is not None and "VISA: terminal 1/900, journal 0/0" in result.notice
    (record,) = journal.outbox_pending()
    payload = json.loads(record.payload_json)
    assert record.kind == "end_of_day" and payload["total"] == 1400
    assert payload["brands"][1] == {"brand": "VISA", "count": 1, "amount": 900}
    (mismatch,) = journal.query("SELECT mismatch_json FROM end_of_day")
    assert "VISA" in mismatch[0]


def test_a_failed_run_is_recorded_not_queued_and_tried_again(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.db")
    terminal = Terminal(EndOfDayTotals(PaymentOutcome.LINK_ERROR, 0, "EUR"))
    result = run_end_of_day(journal, terminal, date(2026, 3, 2), T0, lambda: None)
    assert result.outcome == "failed" and result.notice and "failed" in result.notice
    assert journal.outbox_pending() == []
    schedule = EndOfDaySchedule(journal, BERLIN, time(20, 0))
    assert schedule.due(T0 + timedelta(hours=1)) == date(2026, 3, 2)


def test_brands_without_a_slot_count_in_the_terminals_others() -> None:
    booked = [BrandTotal("Maestro", 1, 400), BrandTotal("V PAY", 1, 300)]
    totals = EndOfDayTotals(PaymentOutcome.APPROVED, 700, "EUR", (BrandTotal("others", 2, 700),))
    assert compare(totals, booked) == []


def test_the_end_of_day_time_is_validated_with_its_key(tmp_path: Path) -> None:
    import pytest

    from kiosk.config import ConfigError, load_config

    sample = Path(__file__).parents[2] / "assets" / "samples"
    (tmp_path / "tariff.json").write_text((sample / "tariff.json").read_text())
    text = (sample / "station.toml").read_text()
    good = text.replace('journal = "journal.db"', 'journal = "journal.db"\nend_of_day = "23:45"')
    (tmp_path / "station.toml").write_text(good)
    assert load_config(tmp_path / "station.toml").end_of_day == time(23, 45)
    (tmp_path / "station.toml").write_text(good.replace('"23:45"', '"25:00"'))
    with pytest.raises(ConfigError, match=r"station\.end_of_day.*HH:MM"):
        load_config(tmp_path / "station.toml")


def test_the_last_runs_difference_is_read_back_after_a_restart(tmp_path: Path) -> None:
    from kiosk.eod.runner import last_notice

    journal = Journal.open(tmp_path / "j.db")
    assert last_notice(journal) is None
    totals = EndOfDayTotals(PaymentOutcome.APPROVED, 900, "EUR", (BrandTotal("VISA", 1, 900),))
    run_end_of_day(journal, Terminal(totals), date(2026, 3, 2), T0, lambda: None)
    journal.close()
    again = Journal.open(tmp_path / "j.db")
    notice = last_notice(again)
    assert notice is not None and "VISA: terminal 1/900, journal 0/0" in notice
