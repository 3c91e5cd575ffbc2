"""A card-present refund from the kiosk end to end over real parts: the journal (a real SQLite
file), the real ZVT framing against the terminal simulator (TCP), the outbox record as the
backend client sends it, and the backend, where it counts as the session's refund."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from backend import books
from drivers.backend_client.wire import report_request
from drivers.zvt.terminal import ZvtTerminal
from drivers.zvt_sim import Fault, TerminalSimulator
from kiosk.devices import CardResult, PaymentOutcome
from kiosk.journal.store import Journal
from kiosk.runtime.card_refund import (
    RefundRefused,
    open_intents,
    queue_reports,
    refundable,
    resolve_open,
    run_card_refund,
)
from tests.backend.conftest import Backend
from tests.backend.steps import card, report, session_body
from tests.drivers.zvt.zvt_testkit import make_terminal, start_sim


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[tuple[TerminalSimulator, ZvtTerminal]]:
    sim = start_sim("tcp", tmp_path / "pt-state.json")
    term = make_terminal(sim)
    yield sim, term
    term.close()
    sim.stop()


def _booked(journal: Journal, session_id: str, amount: int) -> None:
    """The session's booking as the terminal answered it (what settling journals)."""
    booking = CardResult(PaymentOutcome.APPROVED, amount, "EUR", receipt_no=7, trace_no=1007)
    journal.mark_card_result_acknowledged(journal.record_card_result(session_id, "settle", booking))


def test_refund_from_the_kiosk_reaches_the_books(
    sqlite_backend: Backend, terminal: tuple[TerminalSimulator, ZvtTerminal], tmp_path: Path
) -> None:
    sim, term = terminal
    journal = Journal.open(tmp_path / "journal.db")
    _booked(journal, "S-1", 625)
    assert refundable(journal, "S-1") == (625, "EUR")

    done = run_card_refund(journal, term, "S-1", 250)
    assert done.outcome is PaymentOutcome.APPROVED and done.amount_minor == 250
    assert "06 31" in sim.state.commands_seen
    # Journaled like every money command: the intent, then the acknowledged result.
    [(kind, payload, result)] = journal.query(
        "SELECT kind, payload_json, result FROM commands WHERE session_id = 'S-1'"
    )
    assert kind == "RefundCard" and json.loads(payload)["amount_minor"] == 250
    assert result == "approved"
    [(outcome, acked)] = journal.query(
        "SELECT outcome, acknowledged_at IS NOT NULL FROM card_results WHERE kind = 'refund'"
    )
    assert (outcome, acked) == ("approved", 1)
    assert refundable(journal, "S-1") == (375, "EUR")
    with pytest.raises(RefundRefused, match=r"^amount: 400 is not within 1\.\.375"):
        run_card_refund(journal, term, "S-1", 400)
    with pytest.raises(RefundRefused, match=r"^session: 'S-9'"):
        run_card_refund(journal, term, "S-9", 100)

    # Queued once, whatever how often the report step runs.
    assert queue_reports(journal) == 1 and queue_reports(journal) == 0
    [(okind, body)] = journal.query(
        "SELECT kind, payload_json FROM outbox WHERE kind = 'card_refund'"
    )
    path, text = report_request(okind, json.loads(body), "UTC")
    assert path == "/card-refunds"

    with sqlite_backend.station("ST-1") as st:
        report(st, session_body("S-1", card(7)))
        for _ in range(2):  # a repeat after a lost answer stores nothing new
            r = st.post(
                f"/api/v1{path}", content=text, headers={"Content-Type": "application/json"}
            )
            assert r.status_code == 201, r.text
    day = books.books(
        sqlite_backend.svc.db, sqlite_backend.svc.settings, date(2026, 3, 2), date(2026, 3, 2)
    ).days[0]
    assert day.refunded_minor == 250 and day.providers["card"]["refunded"] == 250
    journal.close()


def _left_open(journal: Journal, result: CardResult) -> None:
    """A refund a run died on after journaling its approval, before marking the 80 00 00."""
    journal.record_intent("S-1", "RefundCard", '{"amount_minor": 250, "currency": "EUR"}')
    journal.record_card_result("S-1", "refund", result)


def test_a_refund_left_open_waits_for_a_silent_terminal_then_is_resolved(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.db")
    _booked(journal, "S-1", 625)
    sim = start_sim("tcp", tmp_path / "pt-state.json")
    term = make_terminal(sim)
    kept = term.refund(100, "EUR", "S-0", lambda _r: None, lambda _t: None)  # the last kept
    unacked = CardResult(PaymentOutcome.APPROVED, 250, "EUR", receipt_no=kept.receipt_no + 1)
    _left_open(journal, unacked)
    term.close()
    sim.stop()
    silent = make_terminal(sim)
    assert resolve_open(journal, silent) is False  # nothing concluded from silence
    assert open_intents(journal) != [] and refundable(journal, "S-1") == (375, "EUR")
    with pytest.raises(RefundRefused, match=r"^terminal: the outcome of the refund for 'S-1'"):
        run_card_refund(journal, silent, "S-1", 100)

    sim = start_sim("tcp", tmp_path / "pt-state.json")  # answers again; its last result is
    sim.state.last_status = None  # gone with the restart: the refund was not kept
    term = make_terminal(sim)
    assert resolve_open(journal, term) is True
    assert open_intents(journal) == []
    assert journal.query("SELECT result FROM commands WHERE kind = 'RefundCard'") == [("dropped",)]
    assert refundable(journal, "S-1") == (625, "EUR") and queue_reports(journal) == 0
    term.close()
    sim.stop()
    journal.close()


def test_a_refund_the_terminal_cannot_tell_about_is_flagged_not_reported(
    terminal: tuple[TerminalSimulator, ZvtTerminal], tmp_path: Path
) -> None:
    """Another result journaled after it: the terminal's last result may be that one, so the
    refund is marked unknown (for the operator), neither reported nor given back."""
    _sim, term = terminal
    journal = Journal.open(tmp_path / "journal.db")
    _booked(journal, "S-1", 625)
    _left_open(journal, CardResult(PaymentOutcome.APPROVED, 250, "EUR", receipt_no=4242))
    journal.record_card_result("S-2", "preauth", CardResult(PaymentOutcome.APPROVED, 3000, "EUR"))
    assert resolve_open(journal, term) is True
    assert journal.query("SELECT result FROM commands WHERE kind = 'RefundCard'") == [("unknown",)]
    assert refundable(journal, "S-1") == (375, "EUR") and queue_reports(journal) == 0
    journal.close()


@pytest.mark.parametrize(
    ("fault", "kept"),
    [
        (Fault.DROP_BEFORE_RESULT, False),  # link lost before the 04 0F: nothing was made
        (Fault.DROP_AFTER_RESULT, True),  # the terminal kept it, the link went after the 04 0F
        (Fault.LOSE_RESULT, True),  # kept, and its 04 0F never arrived
    ],
)
def test_a_refund_whose_link_is_lost_is_asked_about_at_once(
    terminal: tuple[TerminalSimulator, ZvtTerminal], tmp_path: Path, fault: Fault, kept: bool
) -> None:
    sim, term = terminal
    journal = Journal.open(tmp_path / "journal.db")
    _booked(journal, "S-1", 625)
    sim.inject(fault)
    done = run_card_refund(journal, term, "S-1", 250)
    refunds = sim.ledger()["refunds"]
    assert len(refunds) == kept  # type: ignore[arg-type]
    assert (done.outcome is PaymentOutcome.APPROVED) is kept
    assert open_intents(journal) == [] and "06 20" in sim.state.commands_seen
    assert queue_reports(journal) == kept
    assert refundable(journal, "S-1") == (625 - 250 * kept, "EUR")
    if kept:
        assert done.receipt_no == refunds[0]["receipt_no"]  # type: ignore[index]
    journal.close()
