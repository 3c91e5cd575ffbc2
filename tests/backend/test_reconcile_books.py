"""`backend reconcile` and GET /reconciliation print the operator's books: each planted
settlement, payout, dispute and refund mismatch appears exactly once, in English and German,
from the same findings the operator pages show."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from backend import books, refunds
from backend.models import ChargingSession
from backend.settlement_checks import NO_STATION, SETTLEMENT_CLASSES
from backend.settlement_import import import_file
from tests.backend.conftest import Backend
from tests.backend.steps import card, report, session_body
from tests.evkiosk_cli import evkiosk

SAMPLES = Path(__file__).parent / "settlement_samples"
# The Adyen sample's lines tied to no session of a station: they are the operator's, not a
# station's, and a station's key never sees them.
PROVIDER_LEVEL = {"settled_not_captured", "payout_total_mismatch"}


def _plant(b: Backend) -> httpx.Client:
    """Seven card sessions at ST-1 and the Adyen file that plants one of each settlement class
    (see test_settlement_import), with our own refund of 3.00 for S-1."""
    st = b.station("ST-1")
    for n in range(1, 8):
        report(st, session_body(f"S-{n}", card(n)))
    with b.svc.db.read() as s:
        pk = s.scalar(select(ChargingSession.pk).where(ChargingSession.session_id == "S-1"))
    assert pk is not None
    refunds.refund_session(b.svc, pk, 300, reason="goodwill", actor="olga", request_key="r" * 20)
    data = (SAMPLES / "adyen_settlement_details.csv").read_bytes()
    assert import_file(b.svc.db, "adyen_settlement_details", data, "s.csv", b.clock()) == 12
    return st


def _cli(b: Backend, *extra: str) -> str:
    ran = evkiosk(
        "backend", "reconcile", "--db", b.db_url, "--from", "2026-03-01", "--to", "2026-03-06",
        *extra,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


def _classes(data: dict[str, Any]) -> Counter[str]:
    return Counter(d["class"] for day in data["days"] for d in day["discrepancies"])


def test_cli_json_lists_each_books_class_once_in_both_languages(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    _plant(b).close()
    en = json.loads(_cli(b, "--format", "json"))
    de = json.loads(_cli(b, "--format", "json", "--lang", "de"))
    assert _classes(en) == dict.fromkeys(SETTLEMENT_CLASSES, 1)
    assert _classes(de) == _classes(en)
    assert en["clean"] is False and en["open"] == 7
    assert en["summary"] == "7 discrepancies (7 open) on 2 of 2 station-days"
    assert de["summary"] == "7 Abweichungen (7 offen) an 2 von 2 Stationstagen"
    # The classes named from the one list the operator pages use, in the asked language.
    assert en["classes"] == books.class_names("en") and de["classes"] == books.class_names("de")
    assert set(SETTLEMENT_CLASSES) <= set(en["classes"])
    texts = {d["class"]: d["text"] for day in de["days"] for d in day["discrepancies"]}
    assert texts["settled_amount_differs"] == "abgerechnet 6,00\u00a0€, eingezogen 6,25\u00a0€"
    assert texts["dispute"] == "Rückbuchung oder Streitfall über 6,25\u00a0€"
    st1 = next(d for d in en["days"] if d["station_id"] == "ST-1")
    assert (st1["captured"], st1["refunded"]) == (7 * 625, 300)
    assert st1["settled"] == 625 * 5 + 600 - 625 - 625 - 300
    # The same keys as the books the operator pages read: one source.
    web = books.books(b.svc.db, b.svc.settings, date(2026, 3, 1), date(2026, 3, 6))
    assert sorted(f.key for f in web.findings()) == sorted(
        d["key"] for day in en["days"] for d in day["discrepancies"]
    )


def test_cli_csv_and_html_carry_the_books_classes(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    _plant(b).close()
    rows = list(csv.DictReader(io.StringIO(_cli(b, "--format", "csv", "--lang", "de"))))
    assert Counter(r["class"] for r in rows) == dict.fromkeys(SETTLEMENT_CLASSES, 1)
    fee = next(r for r in rows if r["class"] == "fee_differs")
    assert fee["message"] == "Gebühr 0,30\u00a0€, vereinbart 0,18\u00a0€"
    assert fee["records"].startswith("S-3;adyen:")
    assert next(r for r in rows if r["class"] == "payout_total_mismatch")["station_id"] == "-"
    html = _cli(b, "--format", "html")
    for cls in SETTLEMENT_CLASSES:
        assert html.count(f"<strong>{cls}</strong>") == 1, cls


def test_api_json_shows_a_station_its_books_classes_once(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    st = _plant(b)
    try:
        r = st.get(
            "/api/v1/reconciliation",
            params={"from": "2026-03-01", "to": "2026-03-06", "lang": "de"},
        )
    finally:
        st.close()
    assert r.status_code == 200, r.text
    data = r.json()
    assert _classes(data) == dict.fromkeys(set(SETTLEMENT_CLASSES) - PROVIDER_LEVEL, 1)
    assert {d["station_id"] for d in data["days"]} == {"ST-1"}  # never the provider's "-"
    assert NO_STATION not in {d["station_id"] for d in data["days"]}
    [day] = data["days"]
    assert day["refunded"] == 300 and day["providers"]["card"]["captured"] == 7 * 625
    assert data["classes"]["dispute"] == "Rückbuchung (Chargeback) oder Streitfall"


def test_a_resolved_finding_stays_in_the_output_with_its_note(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    _plant(b).close()
    result = books.books(b.svc.db, b.svc.settings, date(2026, 3, 1), date(2026, 3, 6))
    dispute = next(f for f in result.findings() if f.cls == "dispute")
    books.add_note(b.svc.db, b.clock(), "olga", dispute, "chargeback accepted, card stolen")
    data = json.loads(_cli(b, "--format", "json"))
    assert _classes(data)["dispute"] == 1 and data["open"] == 6
    [found] = [d for day in data["days"] for d in day["discrepancies"] if d["class"] == "dispute"]
    assert found["resolved"] is True
    assert found["notes"][0]["note"] == "chargeback accepted, card stolen"
