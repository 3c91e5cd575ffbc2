"""The four-ledger comparison and the kill points, on hand-made ledgers: each rule names its
disagreement, and a consistent set of ledgers has none."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from drivers.zvt import commands
from drivers.zvt.codec.apdu import Apdu
from tests.e2e.ledgers.compare import compare, energy_price_in_force, shown_energy_price
from tests.e2e.ledgers.killpoints import KillSwitch
from tests.e2e.ledgers.ledgers import BackendLedger, JournalLedger, Ledgers
from tests.e2e.ledgers.scenario import generate

SID = "s1"
TARIFF: dict[str, Any] = {
    "country_code": "DE",
    "party_id": "EVK",
    "id": "T",
    "currency": "EUR",
    "type": "AD_HOC_PAYMENT",
    "tax_included": "YES",
    "elements": [
        {
            "price_components": [{"type": "ENERGY", "price": "0.69", "vat": 19, "step_size": 1}],
            "restrictions": {
                "start_time": "17:00",
                "end_time": "21:00",
                "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
            },
        },
        {"price_components": [{"type": "ENERGY", "price": "0.50", "vat": 19, "step_size": 1}]},
    ],
    "last_updated": "2026-01-01T00:00:00Z",
}
AT = "2026-06-08T10:00:00+00:00"  # Monday 12:00 in Berlin: the 0.50 line is in force


def consistent() -> Ledgers:
    """A card session of 2 kWh at 0.50: 100 cents, the same on every side."""
    report = {
        "session_id": SID,
        "money": "charged",
        "final_minor": 100,
        "cost_minor": 100,
        "stop_reason": "driver",
        "tariff": json.dumps(TARIFF),
        "authorisation": {"method": "card", "receipt_no": 1, "link_id": None},
        "readings": [[AT, 1000, 0.0, True], ["2026-06-08T10:10:00+00:00", 3000, 11000.0, True]],
    }
    entry = {"reference": SID, "amount_minor": 100, "original_receipt_no": 1}
    receipt = {
        "total": {"minor": 100},
        "money": "charged",
        "vat_lines": [{"net": {"minor": 84}, "vat": {"minor": 16}}],
    }
    return Ledgers(
        screen=[
            {"kind": "tile", "summary": "Energy: 0.50 EUR/kWh (otherwise)", "at": AT},
            {"kind": "stop_confirm", "session": SID, "minor": 100},
            {"kind": "receipt", "session": SID, "receipt": receipt},
        ],
        journal=JournalLedger([], {SID: report}, 0, [SID]),
        terminal={"open": {}, "booked": [entry], "reversed": []},
        backend=BackendLedger(
            sessions={SID: [{"pk": 7, "reported_minor": 100, "computed_minor": 100}]},
            payments={7: [{"captured_minor": 100}]},
        ),
    )


def kinds(led: Ledgers) -> set[str]:
    return {d.kind for d in compare(led, TARIFF)}


def test_consistent_ledgers_have_no_disagreement() -> None:
    assert compare(consistent(), TARIFF) == []


def test_a_booking_the_terminal_does_not_have_is_journal_vs_terminal() -> None:
    led = consistent()
    led.terminal["reversed"] = led.terminal.pop("booked")  # the sweep reversed the hold
    led.terminal["booked"] = []
    assert {"journal_vs_terminal", "backend_vs_terminal"} <= kinds(led)


def test_each_hold_ends_exactly_once() -> None:
    led = consistent()
    led.terminal["reversed"] = [{"reference": SID, "amount_minor": 0, "original_receipt_no": 1}]
    assert "preauth_ended_twice" in kinds(led)
    led = consistent()
    led.terminal["open"] = {"2": {"amount_minor": 5000}}
    assert kinds(led) == {"preauth_left_open"}


def test_lost_and_doubled_sessions() -> None:
    led = consistent()
    led.backend.sessions[SID] = []
    assert "session_lost" in kinds(led)
    led = consistent()
    led.backend.sessions[SID] = led.backend.sessions[SID] * 2
    assert "session_counted_twice" in kinds(led)


def test_screen_promises_are_held_to_the_cent() -> None:
    led = consistent()
    led.screen[1]["minor"] = 90
    led.screen[2]["receipt"]["total"]["minor"] = 110
    assert kinds(led) == {
        "stop_confirm_vs_booked",
        "receipt_vs_journal",
        "receipt_vat_lines_vs_total",
    }


def test_booked_amount_must_be_the_recomputed_tariff() -> None:
    led = consistent()
    for report in led.journal.reports.values():
        report["final_minor"] = 101
    led.terminal["booked"][0]["amount_minor"] = 101
    led.backend.payments[7][0]["captured_minor"] = 101
    led.backend.sessions[SID][0].update(reported_minor=101, computed_minor=101)
    led.screen = led.screen[:1]
    assert kinds(led) == {"recompute_vs_booked"}


def test_tile_must_show_the_price_in_force() -> None:
    led = consistent()
    led.screen[0]["summary"] = "Energy: 0.69 EUR/kWh (Mon–Fri, 17:00–21:00)"
    assert kinds(led) == {"tile_price_not_in_force"}


@pytest.mark.parametrize(
    ("utc", "price"),
    [
        ("2026-06-08T14:59:59+00:00", "0.50"),  # Monday 16:59:59 local
        ("2026-06-08T15:00:00+00:00", "0.69"),  # Monday 17:00 local (CEST, UTC+2)
        ("2026-06-06T16:00:00+00:00", "0.50"),  # Saturday 18:00: weekdays only
        ("2026-12-07T16:00:00+00:00", "0.69"),  # Monday 17:00 local in winter (CET, UTC+1)
    ],
)
def test_price_in_force_oracle(utc: str, price: str) -> None:
    assert energy_price_in_force(TARIFF, datetime.fromisoformat(utc)) == Decimal(price)


def test_shown_energy_price_reads_both_locales() -> None:
    assert shown_energy_price("Energie: 0,59 €/kWh") == Decimal("0.59")
    assert shown_energy_price("Energy: 0.69 EUR/kWh (Mon–Fri)") == Decimal("0.69")
    assert shown_energy_price("€0.59/kWh + €0.50/session") == Decimal("0.59")


def test_scenarios_are_replayable_from_their_seed() -> None:
    assert generate(4711).to_json() == generate(4711).to_json()
    assert generate(4711).to_json() != generate(4712).to_json()


def test_kill_points_name_every_money_boundary_in_order() -> None:
    switch = KillSwitch(None, lambda: None)
    book = commands.book_total(1, 181, 978)
    for when, apdu in [
        ("send", commands.open_preauth_enquiry()),  # a question: no money boundary
        ("sent", commands.open_preauth_enquiry()),
        ("received", Apdu(0x80, 0x00)),
        ("send", book),
        ("sent", book),
        ("received", Apdu(0x80, 0x00)),
        ("received", Apdu(0x04, 0x0F)),
        ("send", Apdu(0x80, 0x00)),
        ("sent", Apdu(0x80, 0x00)),
        ("received", Apdu(0x06, 0x0F)),
        ("sent", Apdu(0x80, 0x00)),
        ("sent", commands.status_enquiry("000000")),
    ]:
        switch.boundary(when, apdu)
    assert switch.points.zvt == [
        "before 06 24",
        "after 06 24",
        "got 04 0F",
        "acked 04 0F",
        "acked 06 0F",
    ]
