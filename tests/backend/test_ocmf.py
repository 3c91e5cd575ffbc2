"""Signed meter records at the backend: verified on ingest, kept per meter without gaps,
checked again by reconciliation (a changed digit is caught), exported, on the receipt."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import update

from backend import reconcile
from backend.models import OcmfStored
from backend.ocmf import export_records
from tests.backend.conftest import Backend
from tests.backend.ocmf_records import PUBLIC, entry, record
from tests.backend.steps import card, report, session_body
from tests.evkiosk_cli import evkiosk

DAY = date(2026, 3, 2)


def classes(backend: Backend) -> list[str]:
    rep = reconcile.reconcile(backend.svc.db, backend.svc.settings, DAY, DAY)
    return sorted(d.cls for row in rep.rows for d in row.discrepancies)


def test_a_signed_session_is_stored_verified_and_offered_on_the_receipt(
    sqlite_backend: Backend,
) -> None:
    b = sqlite_backend
    with b.station("ST") as st:
        body = report(st, session_body("S1", card(1), ocmf=[entry(record("S1", 1))]))
    with b.svc.db.read() as s:
        (row,) = s.query(OcmfStored).all()
        assert (row.verified, row.problems, row.signed_energy_wh) == (True, "", 10_000)
        assert row.transaction_no == 1 and row.public_key == PUBLIC
    assert classes(b) == []
    with b.client() as c:
        page = c.get(body["receipt_url"].removeprefix(b.url)).text
    assert "OCMF|{" in page.replace("&#34;", '"').replace("&quot;", '"')
    assert PUBLIC in page
    assert "Transparenzsoftware" in page and "10.000 kWh" in page


def test_changing_one_digit_of_a_stored_record_is_caught(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    with b.station("ST") as st:
        report(st, session_body("S1", card(1), ocmf=[entry(record("S1", 1))]))
    assert classes(b) == []
    with b.svc.db.session() as s:
        row = s.query(OcmfStored).one()
        tampered = row.record.replace('"RV":110.000', '"RV":111.000')
        assert tampered != row.record
        s.execute(update(OcmfStored).values(record=tampered))
    assert classes(b) == ["ocmf_invalid"]


def test_the_export_lists_each_meters_records_in_order_with_their_gaps(
    sqlite_backend: Backend,
) -> None:
    b = sqlite_backend
    with b.station("ST") as st:
        for n in (1, 2, 4):
            report(st, session_body(f"S{n}", card(n), ocmf=[entry(record(f"S{n}", n))]))
    with b.svc.db.read() as s:
        out = export_records(s)
    (meter,) = out["meters"]
    assert [r["transaction_no"] for r in meter["records"]] == [1, 2, 4]
    assert meter["gaps"] == [[3, 3]] and meter["public_keys"] == [PUBLIC]
    assert all(r["record"].startswith("OCMF|") for r in meter["records"])


def test_a_bad_ocmf_item_is_refused_naming_the_field(sqlite_backend: Backend) -> None:
    with sqlite_backend.station("ST") as st:
        r = st.post(
            "/api/v1/sessions",
            json=session_body("S1", card(1), ocmf=[entry(record("S1", 1), signed="yes")]),
        )
    assert r.status_code == 422
    assert "ocmf" in r.text and "signed" in r.text


def test_the_export_command_prints_the_records_for_an_authority(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    with b.station("ST") as st:
        for n in (1, 3):
            report(st, session_body(f"S{n}", card(n), ocmf=[entry(record(f"S{n}", n))]))
    done = evkiosk("backend", "ocmf-export", "--db", b.db_url)
    assert done.returncode == 0, done.stderr
    (meter,) = json.loads(done.stdout)["meters"]
    assert meter["gaps"] == [[2, 2]]
    assert [r["session_id"] for r in meter["records"]] == ["S1", "S3"]


def test_a_signed_session_in_a_batch_keeps_its_records(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    with b.station("ST") as st:
        r = st.post(
            "/api/v1/sessions:batch",
            json={"sessions": [session_body("S1", card(1), ocmf=[entry(record("S1", 1))])]},
        )
    assert r.status_code == 200, r.text
    assert [x["status_code"] for x in r.json()["results"]] == [201]
    with b.svc.db.read() as s:
        (row,) = s.query(OcmfStored).all()
        assert (row.verified, row.signed_energy_wh, row.transaction_no) == (True, 10_000, 1)
    assert classes(b) == []


def test_a_second_record_with_a_meters_used_number_is_kept_flagged_not_refused(
    sqlite_backend: Backend,
) -> None:
    # Two sessions whose records carry the same meter serial and T1 (a reset or swapped meter):
    # both reports are stored, so the station's outbox moves on, and the second record is kept
    # outside the meter's numbering and found by reconciliation.
    b = sqlite_backend
    with b.station("ST") as st:
        report(st, session_body("S1", card(1), ocmf=[entry(record("S1", 1))]))
        report(st, session_body("S2", card(2), ocmf=[entry(record("S2", 1))]))
    with b.svc.db.read() as s:
        rows = s.query(OcmfStored).order_by(OcmfStored.pk).all()
    assert [r.transaction_no for r in rows] == [1, None]
    assert rows[0].problems == ""
    assert "already sent T1 (session S1)" in rows[1].problems
    assert classes(b) == ["ocmf_invalid"]
