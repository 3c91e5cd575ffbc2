"""GET /metrics over real HTTP: Prometheus text that a scraper parses, and figures that move as
links are paid, sessions ingested, money captured and discrepancies found."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from backend import books
from backend.settlement_import import import_file
from tests.backend.conftest import Backend
from tests.backend.steps import card, paid_link, report, session_body

SAMPLES = Path(__file__).parent / "settlement_samples"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(backend: Backend) -> Samples:
    response = httpx.get(f"{backend.url}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _yesterday(backend: Backend, hour: int) -> str:
    """A time on the day before the backend's clock's today (reconciled by /metrics)."""
    day = backend.svc.settings.now().astimezone(UTC).date() - timedelta(days=1)
    return f"{day}T{hour:02d}:00:00Z"


def test_metrics_count_requests_links_sessions_captures_and_discrepancies(
    sqlite_backend: Backend,
) -> None:
    before = scrape(sqlite_backend)
    assert value(before, "evkiosk_database_up") == 1
    assert value(before, "evkiosk_sessions_ingested_total", method="card") == 0
    for cls in ("captured_ne_computed", "uncaptured_hold", "duplicate"):
        assert ("evkiosk_reconciliation_discrepancies", (("class", cls),)) in before

    with sqlite_backend.station("ST-M1") as st:
        link_id = paid_link(sqlite_backend, st)
        assert link_id
        body = session_body(
            "s-metrics-1",
            card(1),
            start_date_time=_yesterday(sqlite_backend, 9),
            end_date_time=_yesterday(sqlite_backend, 10),
        )
        assert st.post("/api/v1/sessions", json=body).status_code == 201
        # Captured less than the computed cost: a discrepancy of its own class.
        short = session_body(
            "s-metrics-2",
            card(2, captured=600),
            start_date_time=_yesterday(sqlite_backend, 11),
            end_date_time=_yesterday(sqlite_backend, 12),
        )
        assert st.post("/api/v1/sessions", json=short).status_code == 201
        assert st.get("/api/v1/payment-links/pl_unknown").status_code == 404
        too_big = b"{" + b" " * sqlite_backend.svc.settings.max_body_bytes + b"}"
        assert st.post("/api/v1/sessions", content=too_big).status_code == 413

    after = scrape(sqlite_backend)
    posted = value(
        after, "evkiosk_http_requests_total", route="/api/v1/sessions", method="POST", status="201"
    )
    assert posted == 2
    missing = value(
        after,
        "evkiosk_http_requests_total",
        route="/api/v1/payment-links/{link_id}",
        method="GET",
        status="404",
    )
    assert missing == 1  # by route template: the id is not a label
    refused = value(
        after, "evkiosk_http_requests_total", route="(unmatched)", method="POST", status="413"
    )
    assert refused == 1  # refused before routing: counted, under one label
    assert value(after, "evkiosk_payment_links", status="authorized") == 1
    assert value(after, "evkiosk_sessions_ingested_total", method="card") == 2
    assert value(after, "evkiosk_captured_minor_total", method="card", currency="EUR") == 625 + 600
    assert value(after, "evkiosk_payments", method="card", status="captured") == 2
    assert value(after, "evkiosk_reconciliation_discrepancies", **{"class": "captured_ne_computed"})
    age = value(after, "evkiosk_station_last_report_age_seconds", station="ST-M1")
    assert 0 <= age < 3600
    # The scrape itself is counted too, on its own route.
    assert value(after, "evkiosk_http_requests_total", route="/metrics", method="GET", status="200")


def test_metrics_name_every_class_of_the_books_with_settlement_findings(
    sqlite_backend: Backend,
) -> None:
    """Settlement, payout, refund and dispute classes (and the signed-record ones) are exported
    like reconciliation's, each with the count the books find for the same days, and the open
    ones drop when an operator resolves a finding with a note."""
    b = sqlite_backend
    empty = scrape(b)
    for cls in books.ALL_CLASSES:
        assert ("evkiosk_reconciliation_discrepancies", (("class", cls),)) in empty, cls
        assert value(empty, "evkiosk_reconciliation_discrepancies", **{"class": cls}) == 0
    with b.station("ST-1") as st:
        for n in range(1, 8):
            report(st, session_body(f"S-{n}", card(n)))
    data = (SAMPLES / "adyen_settlement_details.csv").read_bytes()
    assert import_file(b.svc.db, "adyen_settlement_details", data, "sample.csv", b.clock()) == 12
    today = b.svc.settings.now().date()
    found = Counter(
        f.cls for f in books.books(b.svc.db, b.svc.settings, today - timedelta(1), today).findings()
    )
    assert {"dispute", "captured_not_settled", "fee_differs"} <= set(found)
    after = scrape(b)
    for cls in books.ALL_CLASSES:
        assert value(after, "evkiosk_reconciliation_discrepancies", **{"class": cls}) == found[cls]
        assert (
            value(after, "evkiosk_reconciliation_open_discrepancies", **{"class": cls})
            == (found[cls])
        )
    dispute = next(
        f
        for f in books.books(b.svc.db, b.svc.settings, today - timedelta(1), today).findings()
        if f.cls == "dispute"
    )
    books.add_note(b.svc.db, b.clock(), "olga", dispute, "chargeback accepted")
    resolved = scrape(b)
    assert value(resolved, "evkiosk_reconciliation_discrepancies", **{"class": "dispute"}) == 1
    assert value(resolved, "evkiosk_reconciliation_open_discrepancies", **{"class": "dispute"}) == 0
