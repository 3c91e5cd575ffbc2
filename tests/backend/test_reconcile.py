"""Reconciliation: plant each discrepancy class through the API and find exactly that one."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta

import httpx
import pytest

from backend import reconcile
from tests.backend.conftest import Backend
from tests.backend.ocmf_records import entry, record
from tests.backend.steps import TERMINAL, card, link_body, paid_link, pay, report, session_body
from tests.evkiosk_cli import evkiosk

DAY = date(2026, 3, 2)


def totals(st: httpx.Client, total: int, receipts: tuple[int, int] = (1, 99)) -> None:
    r = st.post(
        "/api/v1/terminal-totals",
        json={
            "terminal_id": TERMINAL,
            "closed_at": "2026-03-02T23:00:00Z",
            "currency": "EUR",
            "total": total,
            "receipt_from": receipts[0],
            "receipt_to": receipts[1],
        },
    )
    assert r.status_code == 201, r.text


def clean(b: Backend, st: httpx.Client) -> None:
    report(st, session_body("S1", {"method": "link", "link_id": paid_link(b, st)}))
    report(st, session_body("S2", card(1)))
    report(st, session_body("S3", card(2)))
    totals(st, 1250)


def uncaptured_hold(b: Backend, st: httpx.Client) -> None:
    link_id = paid_link(b, st)
    assert b.svc.sandbox is not None
    b.svc.sandbox.faults["capture"] = 1  # the gateway fails the capture
    body = report(st, session_body("S1", {"method": "link", "link_id": link_id}))
    assert body["payment_status"] == "capture_pending"


def captured_ne_computed(_b: Backend, st: httpx.Client) -> None:
    report(st, session_body("S1", card(1, captured=600)))


def computed_gt_hold(b: Backend, st: httpx.Client) -> None:
    report(st, session_body("S1", {"method": "link", "link_id": paid_link(b, st, amount=500)}))


def duplicate_receipt(_b: Backend, st: httpx.Client) -> None:
    report(st, session_body("S1", card(7)))
    report(st, session_body("S1-again", card(7)))  # same terminal receipt, new session id


def duplicate_link(b: Backend, st: httpx.Client) -> None:
    link_id = paid_link(b, st)
    report(st, session_body("S1", {"method": "link", "link_id": link_id}))
    second = report(st, session_body("S2", {"method": "link", "link_id": link_id}))
    assert second["payment_status"] == "duplicate"  # never captured twice


def payment_without_session(_b: Backend, st: httpx.Client) -> None:
    r = st.post(
        "/api/v1/payments",
        json={"payment": card(3), "currency": "EUR", "occurred_at": "2026-03-02T12:00:00Z"},
    )
    assert r.status_code == 201, r.text


def session_without_payment(_b: Backend, st: httpx.Client) -> None:
    report(st, session_body("S1", {"method": "none"}))


def paid_by_csms(_b: Backend, st: httpx.Client) -> None:
    # OCPP C25: the operator's CSMS took the money through its PSP; nothing to capture here.
    body = report(st, session_body("S1", {"method": "csms", "psp_ref": "psp-123"}))
    assert body["payment_status"] == "none"


def zero_energy_with_charge(_b: Backend, st: httpx.Client) -> None:
    # No energy, but the flat fee 0.35 + 19 % VAT = 0.42 was captured.
    report(st, session_body("S1", card(1, captured=42), meter_end_wh=100_000, total_cost=42))


def batch_total_mismatch(_b: Backend, st: httpx.Client) -> None:
    report(st, session_body("S1", card(1)))
    totals(st, 700)


def reported_ne_computed(_b: Backend, st: httpx.Client) -> None:
    report(st, session_body("S1", card(1), total_cost=630))


def ocmf_missing(_b: Backend, st: httpx.Client) -> None:
    report(st, session_body("S1", card(1), ocmf=[entry(None, serial="MISSING")]))


def ocmf_invalid(_b: Backend, st: httpx.Client) -> None:
    text = record("S1", 1, serial="INVALID").replace('"RV":110.000', '"RV":110.001')
    report(st, session_body("S1", card(1), ocmf=[entry(text, serial="INVALID")]))


def ocmf_gap(_b: Backend, st: httpx.Client) -> None:
    for n in (1, 3):
        text = record(f"S{n}", n, serial="GAP")
        report(st, session_body(f"S{n}", card(n), ocmf=[entry(text, serial="GAP")]))


def ocmf_energy_mismatch(_b: Backend, st: httpx.Client) -> None:
    text = record("S1", 1, end_wh=109_000, serial="ENERGY")  # signed 9 kWh, booked 10 kWh
    report(st, session_body("S1", card(1), ocmf=[entry(text, serial="ENERGY")]))


SCENARIOS: dict[str, tuple[Callable[[Backend, httpx.Client], None], set[str]]] = {
    "CLEAN": (clean, set()),
    "UNCAPTURED": (uncaptured_hold, {"uncaptured_hold"}),
    "CAPTURED-NE": (captured_ne_computed, {"captured_ne_computed"}),
    "OVER-HOLD": (computed_gt_hold, {"computed_gt_hold"}),
    "DUP-RECEIPT": (duplicate_receipt, {"duplicate"}),
    "DUP-LINK": (duplicate_link, {"duplicate"}),
    "NO-SESSION": (payment_without_session, {"payment_without_session"}),
    "NO-PAYMENT": (session_without_payment, {"session_without_payment"}),
    "PAID-BY-CSMS": (paid_by_csms, set()),
    "ZERO-ENERGY": (zero_energy_with_charge, {"zero_energy_with_charge"}),
    "BATCH": (batch_total_mismatch, {"batch_total_mismatch"}),
    "REPORTED-NE": (reported_ne_computed, {"reported_ne_computed"}),
    "OCMF-MISSING": (ocmf_missing, {"ocmf_missing"}),
    "OCMF-INVALID": (ocmf_invalid, {"ocmf_invalid"}),
    "OCMF-GAP": (ocmf_gap, {"ocmf_gap"}),
    "OCMF-ENERGY": (ocmf_energy_mismatch, {"ocmf_energy_mismatch"}),
}


def found_by_station(rep: reconcile.Report) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for row in rep.rows:
        found[row.station_id] += [d.cls for d in row.discrepancies]
    return found


def test_each_planted_class_is_found_exactly(backend: Backend) -> None:
    for station, (plant, _expected) in SCENARIOS.items():
        with backend.station(station) as st:
            plant(backend, st)
    rep = reconcile.reconcile(backend.svc.db, backend.svc.settings, DAY, DAY)
    found = found_by_station(rep)
    for station, (_plant, expected) in SCENARIOS.items():
        assert sorted(found[station]) == sorted(expected), station
        assert len(found[station]) == len(expected), station  # once, not twice
    assert set(reconcile.CLASSES) == {c for _p, exp in SCENARIOS.values() for c in exp}
    clean_row = next(r for r in rep.rows if r.station_id == "CLEAN")
    assert clean_row.clean and clean_row.sessions == 3
    assert clean_row.captured_minor == 1875 and clean_row.terminal_total_minor == 1250


def test_duplicate_receipt_counts_once_in_the_batch_sum(backend: Backend) -> None:
    # The terminal booked receipt 7 once (6.25); the station reported it under two session ids.
    with backend.station("ST") as st:
        duplicate_receipt(backend, st)
        totals(st, 625)
    rep = reconcile.reconcile(backend.svc.db, backend.svc.settings, DAY, DAY)
    assert found_by_station(rep) == {"ST": ["duplicate"]}
    assert rep.rows[0].terminal_total_minor == 625


def test_duplicate_receipt_is_dated_on_the_session_day(backend: Backend) -> None:
    with backend.station("ST") as st:
        report(st, session_body("S1", card(7)))
        backend.clock.advance(days=2)  # the repeat arrives two days after the session ended
        report(st, session_body("S1-again", card(7)))
    rep = reconcile.reconcile(backend.svc.db, backend.svc.settings, DAY, DAY)
    assert found_by_station(rep) == {"ST": ["duplicate"]}
    [row] = rep.rows
    assert row.day == DAY
    [dup] = row.discrepancies
    assert len(dup.records) == 2
    later = DAY + timedelta(days=2)
    rep = reconcile.reconcile(backend.svc.db, backend.svc.settings, later, later)
    assert rep.discrepancy_count == 0


def test_a_session_with_two_payments_counts_once(backend: Backend) -> None:
    with backend.station("ST") as st:
        report(st, session_body("S1", card(1)))
        r = st.post(
            "/api/v1/payments",
            json={
                "payment": card(2, captured=100),
                "currency": "EUR",
                "occurred_at": "2026-03-02T10:00:00Z",
                "session_id": "S1",
            },
        )
        assert r.status_code == 201, r.text
    rep = reconcile.reconcile(backend.svc.db, backend.svc.settings, DAY, DAY)
    [row] = rep.rows
    assert (row.sessions, row.energy_wh, row.computed_minor) == (1, 10_000, 625)
    assert row.captured_minor == 725
    assert [d.cls for d in row.discrepancies] == ["captured_ne_computed"]


def test_hold_never_reported_and_never_released_is_uncaptured(backend: Backend) -> None:
    with backend.station("ST") as st:
        link = st.post("/api/v1/payment-links", json=link_body()).json()
        assert pay(backend, link["id"]) == 303
    assert backend.svc.sandbox is not None
    backend.svc.sandbox.faults["release"] = 1
    backend.clock.advance(hours=49)
    assert backend.svc.settler.sweep()["released"] == 0  # the release failed
    rep = reconcile.reconcile(backend.svc.db, backend.svc.settings, DAY, DAY)
    assert found_by_station(rep) == {"ST": ["uncaptured_hold"]}
    assert backend.svc.settler.sweep()["released"] == 1  # the next round releases it
    rep = reconcile.reconcile(backend.svc.db, backend.svc.settings, DAY, DAY)
    assert rep.discrepancy_count == 0


def test_clean_range_says_so_in_every_format(sqlite_backend: Backend) -> None:
    with sqlite_backend.station("ST") as st:
        clean(sqlite_backend, st)
        j = st.get("/api/v1/reconciliation", params={"from": "2026-03-02", "to": "2026-03-02"})
        c = st.get(
            "/api/v1/reconciliation",
            params={"from": "2026-03-02", "to": "2026-03-02", "format": "csv"},
        )
        h = st.get(
            "/api/v1/reconciliation",
            params={"from": "2026-03-02", "to": "2026-03-02", "format": "html"},
        )
    assert j.json()["clean"] is True
    assert j.json()["summary"].startswith("clean:")
    assert c.text.splitlines()[1].split(",")[8] == "clean"
    assert "clean" in h.text


def test_reconciliation_dates_out_of_range_are_422(sqlite_backend: Backend) -> None:
    with sqlite_backend.station("ST") as st:
        for lo, hi in (
            ("9999-12-31", "9999-12-31"),
            ("0001-01-01", "0001-01-02"),
            ("2026-03-02", "2026-03-01"),
        ):
            r = st.get("/api/v1/reconciliation", params={"from": lo, "to": hi})
            assert r.status_code == 422, (lo, hi)


def test_station_sees_only_its_own_reconciliation(sqlite_backend: Backend) -> None:
    with sqlite_backend.station("A") as a, sqlite_backend.station("B") as b:
        session_without_payment(sqlite_backend, a)
        r = b.get("/api/v1/reconciliation", params={"from": "2026-03-02", "to": "2026-03-02"})
    assert r.json()["days"] == []


@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
def test_cli_reconcile_lists_discrepancies(sqlite_backend: Backend, fmt: str) -> None:
    with sqlite_backend.station("ST") as st:
        batch_total_mismatch(sqlite_backend, st)
    ran = evkiosk(
        "backend", "reconcile", "--db", sqlite_backend.db_url,
        "--from", "2026-03-01", "--to", "2026-03-03", "--format", fmt,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout
    if fmt == "json":
        data = json.loads(out)
        assert data["clean"] is False
        assert [d["class"] for d in data["days"][0]["discrepancies"]] == ["batch_total_mismatch"]
        records = data["days"][0]["discrepancies"][0]["records"]
        assert records[0]["type"] == "terminal_totals" and records[0]["total"] == 700
    elif fmt == "csv":
        rows = out.splitlines()
        assert rows[0].startswith("station_id,day,currency")
        assert ",discrepancy,batch_total_mismatch," in rows[1]
    else:
        assert "batch_total_mismatch" in out and "<table" in out
        assert "terminal_totals 1, payment 1" in out  # the records involved


def test_cli_rejects_bad_dates() -> None:
    r = evkiosk("backend", "reconcile", "--from", "yesterday", "--to", "2026-01-01")
    assert r.returncode == 2
    assert "YYYY-MM-DD" in r.stderr
