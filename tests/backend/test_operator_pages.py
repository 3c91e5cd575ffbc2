"""The operator pages over HTTP: stations, CSV export in money, notes that keep the finding,
and the settlement import form."""

from __future__ import annotations

import argparse
import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from backend import cli
from backend.models import AuditEvent, DiscrepancyNote
from tests.backend.conftest import Backend
from tests.backend.ops_steps import csrf_of, make_operator, signed_in
from tests.backend.steps import card, paid_link, report, session_body

SAMPLES = Path(__file__).parent / "settlement_samples"


def test_stations_page_shows_report_age_lag_and_open_holds(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    make_operator(b, "anna", "viewer")
    with b.station("ST-1") as st:
        report(st, session_body("S-1", card(1)))  # ended 10:00, reported at 09:00 (clock)
        paid_link(b, st)  # a hold, not yet used by a session
    b.clock.advance(hours=3)
    c = signed_in(b, "anna")
    page = c.get("/ops/stations").text
    row = re.search(r"<tr><td>ST-1.*?</tr>", page, re.S)
    assert row, page
    assert "2026-03-02 09:00 UTC" in row.group(0) and "3 h 00 min" in row.group(0)
    assert re.search(r'class="num warn">1<', row.group(0))  # one open hold
    c.close()


def test_note_keeps_the_finding_and_export_is_in_money(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    make_operator(b, "olga", "operator")
    with b.station("ST-1") as st:
        report(st, session_body("S-1", card(1, captured=500)))  # planted: 5.00 of 6.25
    c = signed_in(b, "olga")
    page = c.get("/ops/findings?from=2026-03-02&to=2026-03-02").text
    key = re.search(r'name="key" value="([0-9a-f]+)"', page)
    assert key
    r = c.post(
        "/ops/findings/resolve",
        data={
            "csrf": csrf_of(c),
            "key": key.group(1),
            "day": "2026-03-02",
            "station": "ST-1",
            "note": "driver stopped at 5.00",
        },
    )
    assert r.status_code == 303
    # Resolved findings leave the open list but stay in the full one, with the note.
    assert 'id="none"' in c.get("/ops/findings?from=2026-03-02&to=2026-03-02").text
    full = c.get("/ops/findings?from=2026-03-02&to=2026-03-02&state=all").text
    assert "driver stopped at 5.00" in full and "captured_ne_computed" in full
    with b.svc.db.read() as s:
        assert s.scalars(select(DiscrepancyNote)).one().actor == "olga"
        assert "finding_resolved" in [a.action for a in s.scalars(select(AuditEvent))]
    export = c.get("/ops/export.csv?from=2026-03-02&to=2026-03-02")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 1
    row = rows[0]
    assert (row["computed"], row["captured"], row["refunded"]) == ("6.25", "5.00", "0.00")
    assert row["status"] == "resolved" and "driver stopped at 5.00" in row["resolution"]
    assert row["energy_kwh"] == "10.000"
    assert row["message"] == "captured €5.00, computed €6.25"
    c.close()


def test_settlement_file_upload_from_the_web_view(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    make_operator(b, "olga", "operator")
    make_operator(b, "vera", "viewer")
    data = (SAMPLES / "adyen_settlement_details.csv").read_bytes()
    viewer = signed_in(b, "vera")
    r = viewer.post(
        "/ops/imports/file",
        data={"csrf": csrf_of(viewer), "acquirer": "adyen_settlement_details"},
        files={"file": ("settlement.csv", data, "text/csv")},
    )
    assert r.status_code == 403
    c = signed_in(b, "olga")
    r = c.post(
        "/ops/imports/file",
        data={"csrf": csrf_of(c), "acquirer": "adyen_settlement_details"},
        files={"file": ("settlement.csv", data, "text/csv")},
    )
    assert r.status_code == 200 and "Imported 12 records." in r.text
    r = c.post(
        "/ops/imports/file",
        data={"csrf": csrf_of(c), "acquirer": "de_card_acquirer"},
        files={"file": ("settlement.csv", data, "text/csv")},
    )
    assert r.status_code == 422 and "header: column(s)" in r.text
    c.close()
    viewer.close()


def test_books_cli_writes_the_csv_in_german(
    sqlite_backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    b = sqlite_backend
    with b.station("ST-1") as st:
        report(st, session_body("S-1", card(1, captured=500)))
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(
        ["books", "--db", b.db_url, "--from", "2026-03-02", "--to", "2026-03-02", "--lang", "de"]
    )
    assert args.handler(args) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["station_id"], r["captured"], r["class"]) for r in rows] == [
        ("ST-1", "5.00", "captured_ne_computed")
    ]
    assert rows[0]["message"] == "eingezogen 5,00\xa0€, berechnet 6,25\xa0€"
