"""The station API over real HTTP, the same suite on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from backend.gateways import CardDetails
from tests.backend.conftest import Backend, tariff
from tests.backend.steps import card, link_body, paid_link, pay, session_body


def test_create_link_answers_id_url_status_expiry(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        r = st.post("/api/v1/payment-links", json=link_body())
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["status"] == "pending"
    assert link["amount"] == 5000 and link["currency"] == "EUR"
    assert link["url"] == f"{backend.url}/pay/{link['id']}"
    assert link["expires_at"] == "2026-03-02T09:15:00Z"  # fake clock 09:00 + 15 min
    assert len(link["id"]) > 25


def test_idempotency_key_returns_the_same_link(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        first = st.post(
            "/api/v1/payment-links", json=link_body(), headers={"Idempotency-Key": "k1"}
        )
        again = st.post(
            "/api/v1/payment-links", json=link_body(), headers={"Idempotency-Key": "k1"}
        )
        other = st.post(
            "/api/v1/payment-links", json=link_body(), headers={"Idempotency-Key": "k2"}
        )
        changed = st.post(
            "/api/v1/payment-links", json=link_body(amount=9000), headers={"Idempotency-Key": "k1"}
        )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.json()["id"] != first.json()["id"]
    assert changed.status_code == 422


def test_long_poll_sees_authorization_while_waiting(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link = st.post("/api/v1/payment-links", json=link_body()).json()
        result: dict[str, Any] = {}

        def poll() -> None:
            result["r"] = st.get(
                f"/api/v1/payment-links/{link['id']}", params={"wait": 20, "status": "pending"}
            )

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.3)  # let the long-poll start waiting
        assert pay(backend, link["id"]) == 303
        poller.join(25)
    assert result["r"].status_code == 200
    assert result["r"].json()["status"] == "authorized"


def test_long_poll_returns_after_wait_when_nothing_changes(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link = st.post("/api/v1/payment-links", json=link_body()).json()
        r = st.get(f"/api/v1/payment-links/{link['id']}", params={"wait": 0.5})
    assert r.json()["status"] == "pending"


def test_long_poll_does_not_block_other_requests(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link = st.post("/api/v1/payment-links", json=link_body()).json()
        seen: list[str] = []

        def wait() -> None:
            r = st.get(f"/api/v1/payment-links/{link['id']}", params={"wait": 30})
            seen.append(r.json()["status"])

        # 45 long-polls: more than the server's 40 worker threads and its DB pool.
        waiters = [threading.Thread(target=wait) for _ in range(45)]
        for w in waiters:
            w.start()
        time.sleep(0.5)
        r = st.post("/api/v1/payment-links", json=link_body())  # answered while they wait
        assert r.status_code == 201
        assert seen == []  # the long-polls are all still waiting
        assert pay(backend, link["id"]) == 303  # one change wakes them all
        for w in waiters:
            w.join(30)
    assert seen == ["authorized"] * 45


def test_pay_page_names_the_station_as_registered(backend: Backend) -> None:
    from backend.stations import add_station

    key = add_station(backend.svc.db, backend.svc.settings, "K-17", "Hauptstraße 1, Bay 2")
    with backend.client() as c:
        c.headers["Authorization"] = f"Bearer {key}"
        link = c.post("/api/v1/payment-links", json=link_body()).json()
        page = c.get(f"/pay/{link['id']}").text
    assert "Hauptstraße 1, Bay 2" in page
    # Unit prices gross and exact, as the kiosk shows them (0.49 + 19 % = 0.5831 per kWh: the
    # total is rounded once); the hold as it is reserved, in the locale's format.
    assert "€50.00" in page and "€0.5831 per kWh" in page


def test_pay_page_shows_the_expiry_in_the_stations_time(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        body = link_body(time_zone="Europe/Berlin")
        link = st.post("/api/v1/payment-links", json=body).json()
    expires = datetime.fromisoformat(link["expires_at"]).astimezone(ZoneInfo("Europe/Berlin"))
    with backend.client() as c:
        page = c.get(f"/pay/{link['id']}", params={"lang": "de"}).text
    assert f"{expires:%d.%m.%y}, {expires:%H:%M} (Ortszeit)" in page
    assert "UTC" not in page


def test_pay_page_speaks_the_phones_language(backend: Backend) -> None:
    from backend.texts import TEXTS

    assert TEXTS["en"].keys() == TEXTS["de"].keys() == TEXTS["fr"].keys()
    with backend.station("ST-A") as st:
        link = st.post("/api/v1/payment-links", json=link_body()).json()
    with backend.client() as c:
        de = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
        page = c.get(f"/pay/{link['id']}", headers=de).text
        bad = c.post(
            f"/pay/{link['id']}",
            data={"card_number": "4242", "expiry": "12/30", "cvc": "123"},
            headers=de,
        )
        english = c.get(f"/pay/{link['id']}", params={"lang": "en"}, headers=de).text
        french = c.get(f"/pay/{link['id']}", params={"lang": "fr"}, headers=de).text
        bad_fr = c.post(
            f"/pay/{link['id']}",
            params={"lang": "fr"},
            data={"card_number": "4242", "expiry": "12/30", "cvc": "123"},
        )
    assert '<html lang="de">' in page
    assert ">Kartennummer</label>" in page and ">Bezahlen</button>" in page
    assert "0,5831\xa0€ pro kWh" in page and "inkl. 19 % MwSt." in page
    assert '<html lang="fr">' in french and "0,5831\xa0€ par kWh" in french
    assert "Numéro de carte\xa0:" in bad_fr.text
    assert bad.status_code == 422 and "Kartennummer: bitte die 12 bis 19 Ziffern" in bad.text
    assert ">Card number</label>" in english


def test_declined_card_keeps_link_pending_and_counts_decline(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link = st.post("/api/v1/payment-links", json=link_body()).json()
        assert pay(backend, link["id"], "4000000000000002") == 402
        assert pay(backend, link["id"], "4000000000009995") == 402
        state = st.get(f"/api/v1/payment-links/{link['id']}").json()
    assert state["status"] == "pending"
    assert state["declines"] == 2
    assert state["last_decline"] == "insufficient_funds"


def test_pending_link_expires(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link = st.post("/api/v1/payment-links", json=link_body()).json()
        backend.clock.advance(minutes=15)
        state = st.get(f"/api/v1/payment-links/{link['id']}").json()
    assert state["status"] == "expired"


def test_long_poll_reports_expiry_while_waiting(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link = st.post("/api/v1/payment-links", json=link_body()).json()
        result: dict[str, Any] = {}
        poller = threading.Thread(
            target=lambda: result.update(
                st.get(
                    f"/api/v1/payment-links/{link['id']}",
                    params={"wait": 30, "status": "pending"},
                ).json()
            )
        )
        poller.start()
        time.sleep(0.3)
        backend.clock.advance(minutes=15)  # nothing else happens: the waiter notices alone
        poller.join(30)
    assert result["status"] == "expired"


def test_cancel_pending_and_authorized_links(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        pending = st.post("/api/v1/payment-links", json=link_body()).json()
        paid = st.post("/api/v1/payment-links", json=link_body()).json()
        assert pay(backend, paid["id"]) == 303
        a = st.post(f"/api/v1/payment-links/{pending['id']}/cancel")
        b = st.post(f"/api/v1/payment-links/{paid['id']}/cancel")
    assert a.json()["status"] == "cancelled"
    assert b.json()["status"] == "released"  # the hold went back to the driver


def test_cancel_answers_503_when_the_gateway_fails_and_409_when_in_use(backend: Backend) -> None:
    assert backend.svc.sandbox is not None
    with backend.station("ST-A") as st:
        link_id = paid_link(backend, st)
        backend.svc.sandbox.faults["release"] = 1
        failed = st.post(f"/api/v1/payment-links/{link_id}/cancel")
        assert failed.status_code == 503 and failed.headers["Retry-After"] == "30"
        assert st.get(f"/api/v1/payment-links/{link_id}").json()["status"] == "authorized"
        assert st.post(f"/api/v1/payment-links/{link_id}/cancel").json()["status"] == "released"
        used = paid_link(backend, st)
        st.post("/api/v1/sessions", json=session_body("S1", {"method": "link", "link_id": used}))
        assert st.post(f"/api/v1/payment-links/{used}/cancel").status_code == 409


def test_session_report_captures_computed_cost_and_releases_rest(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link_id = paid_link(backend, st)
        r = st.post(
            "/api/v1/sessions", json=session_body("S1", {"method": "link", "link_id": link_id})
        )
        link = st.get(f"/api/v1/payment-links/{link_id}").json()
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["computed_cost"] == 625
    assert body["cost_mismatch"] is False
    assert body["payment_status"] == "captured"
    assert body["captured"] == 625 and body["released"] == 5000 - 625
    assert link["status"] == "captured"


def test_session_report_is_idempotent_on_session_id(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link_id = paid_link(backend, st)
        body = session_body("S1", {"method": "link", "link_id": link_id})
        first = st.post("/api/v1/sessions", json=body)
        again = st.post("/api/v1/sessions", json=body)
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    with backend.svc.db.session() as s:
        from backend.models import ChargingSession, Payment

        assert s.query(ChargingSession).count() == 1
        assert s.query(Payment).count() == 1


def test_concurrent_repeats_of_one_session_are_counted_once(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link_id = paid_link(backend, st)
        body = session_body("S1", {"method": "link", "link_id": link_id})
        answers: list[Any] = []
        threads = [
            threading.Thread(target=lambda: answers.append(st.post("/api/v1/sessions", json=body)))
            for _ in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert [a.status_code for a in answers] == [201] * 8
    assert {a.json()["session_id"] for a in answers} == {"S1"}
    from backend.models import ChargingSession, Payment, SandboxIntent

    with backend.svc.db.session() as s:
        assert s.query(ChargingSession).count() == 1
        assert s.query(Payment).one().captured_minor == 625
        assert s.query(SandboxIntent).one().amount_received == 625


def test_reported_cost_mismatch_is_recorded_not_accepted(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link_id = paid_link(backend, st)
        r = st.post(
            "/api/v1/sessions",
            json=session_body("S1", {"method": "link", "link_id": link_id}, total_cost=999),
        )
    body = r.json()
    assert body["cost_mismatch"] is True
    assert body["reported_cost"] == 999
    assert body["captured"] == 625  # the engine's figure, not the reported one


def test_zero_cost_session_releases_the_hold(backend: Backend) -> None:
    free = tariff()
    free["elements"] = [{"price_components": [{"type": "FLAT", "price": 0, "step_size": 1}]}]
    with backend.station("ST-A") as st:
        link = st.post("/api/v1/payment-links", json={**link_body(), "tariff": free}).json()
        assert pay(backend, link["id"]) == 303
        r = st.post(
            "/api/v1/sessions",
            json=session_body(
                "S0", {"method": "link", "link_id": link["id"]}, tariff=free, total_cost=0
            ),
        )
        state = st.get(f"/api/v1/payment-links/{link['id']}").json()
    assert r.json()["payment_status"] == "released"
    assert r.json()["captured"] == 0
    assert state["status"] == "released"


def test_a_session_without_energy_captures_nothing_even_with_a_session_fee(
    backend: Backend,
) -> None:
    """The kiosk released the hold of a session that never charged (no energy, no charge);
    the backend must not capture the tariff's session fee from it."""
    with backend.station("ST-A") as st:
        link_id = paid_link(backend, st)
        body = session_body(
            "S0", {"method": "link", "link_id": link_id}, meter_end_wh=100_000, total_cost=0
        )
        r = st.post("/api/v1/sessions", json=body).json()
        state = st.get(f"/api/v1/payment-links/{link_id}").json()
    assert (r["payment_status"], r["captured"], r["computed_cost"]) == ("released", 0, 0)
    assert state["status"] == "released"


def test_cost_above_hold_captures_the_hold(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link_id = paid_link(backend, st, amount=500)
        r = st.post(
            "/api/v1/sessions", json=session_body("S1", {"method": "link", "link_id": link_id})
        )
    assert r.json()["captured"] == 500
    assert r.json()["computed_cost"] == 625


def test_failed_capture_is_retried_by_the_sweep(backend: Backend) -> None:
    sandbox = backend.svc.sandbox
    assert sandbox is not None
    with backend.station("ST-A") as st:
        link_id = paid_link(backend, st)
        sandbox.faults["capture"] = 1
        r = st.post(
            "/api/v1/sessions", json=session_body("S1", {"method": "link", "link_id": link_id})
        )
        assert r.json()["payment_status"] == "capture_pending"
        assert backend.svc.settler.sweep()["settled"] == 1
        assert st.get(f"/api/v1/payment-links/{link_id}").json()["status"] == "captured"


def test_sweep_releases_holds_never_reported(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link_id = paid_link(backend, st)
        backend.clock.advance(hours=47)
        assert backend.svc.settler.sweep()["released"] == 0
        backend.clock.advance(hours=1)
        assert backend.svc.settler.sweep()["released"] == 1
        assert st.get(f"/api/v1/payment-links/{link_id}").json()["status"] == "released"


def test_report_after_the_hold_was_released_captures_nothing(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link_id = paid_link(backend, st)
        backend.clock.advance(hours=48)
        assert backend.svc.settler.sweep()["released"] == 1
        late = st.post(
            "/api/v1/sessions", json=session_body("S1", {"method": "link", "link_id": link_id})
        ).json()
    assert late["payment_status"] == "not_authorized"
    assert backend.svc.settler.sweep() == {"expired": 0, "settled": 0, "released": 0}
    from backend.models import SandboxIntent

    with backend.svc.db.session() as s:
        assert s.query(SandboxIntent).one().status == "canceled"


def test_card_session_and_terminal_totals_are_stored(backend: Backend) -> None:
    card = {
        "method": "card",
        "terminal_id": "52500001",
        "receipt_no": 17,
        "trace_no": 170,
        "card_brand": "girocard",
        "masked_pan": "672559******1234",
        "authorized_amount": 5000,
        "captured_amount": 625,
    }
    with backend.station("ST-A") as st:
        r = st.post("/api/v1/sessions", json=session_body("S-card", card))
        t = st.post(
            "/api/v1/terminal-totals",
            json={
                "terminal_id": "52500001",
                "closed_at": "2026-03-02T23:00:00Z",
                "currency": "EUR",
                "total": 625,
            },
        )
    assert r.status_code == 201 and r.json()["computed_cost"] == 625
    assert t.status_code == 201


def test_receipt_page_shows_session_and_vat(backend: Backend) -> None:
    with backend.station("ST-A") as st:
        link_id = paid_link(backend, st)
        r = st.post(
            "/api/v1/sessions", json=session_body("S1", {"method": "link", "link_id": link_id})
        )
    url = r.json()["receipt_url"]
    with backend.client() as c:
        page = c.get(url.replace(backend.url, ""))
        forged = c.get(url.replace(backend.url, "")[:-3] + "AAA")
    assert page.status_code == 200
    assert "S1" in page.text and "ST-A" in page.text
    assert "€6.25" in page.text and "EUR" not in page.text
    assert "10.000 kWh" in page.text
    assert "VAT included (19%)" in page.text and "€1.00" in page.text
    assert "online payment" in page.text and "424242******4242" in page.text
    assert forged.status_code == 404
    with backend.client() as c:
        german = c.get(url.replace(backend.url, ""), headers={"Accept-Language": "de"}).text
    assert "Ladebeleg" in german and "enthaltene MwSt. (19\xa0%)" in german
    assert "Online-Zahlung" in german and "6,25\xa0€" in german and "10,000 kWh" in german


def test_receipt_shows_minimum_price_adjustment(backend: Backend) -> None:
    minimum = tariff()
    minimum["min_price"] = {"excl_vat": 10, "incl_vat": 11.90}
    with backend.station("ST-A") as st:
        link = st.post("/api/v1/payment-links", json={**link_body(), "tariff": minimum}).json()
        assert pay(backend, link["id"]) == 303
        r = st.post(
            "/api/v1/sessions",
            json=session_body(
                "S1", {"method": "link", "link_id": link["id"]}, tariff=minimum, total_cost=1190
            ),
        )
    body = r.json()
    assert body["computed_cost"] == 1190 and body["captured"] == 1190
    with backend.client() as c:
        page = c.get(body["receipt_url"].replace(backend.url, "")).text
    assert "Minimum/maximum price adjustment" in page
    assert "€5.65" in page  # 11.90 - (0.42 + 5.83)


def test_sandbox_authorize_never_keeps_the_card_number(backend: Backend) -> None:
    sandbox = backend.svc.sandbox
    assert sandbox is not None
    auth = sandbox.authorize(CardDetails("4242 4242 4242 4242", "12/30", "123"), 100, "EUR", "x")
    assert auth.masked_pan == "424242******4242"
    raw = ""
    with backend.svc.db.engine.connect() as conn:
        for table in ("sandbox_intents", "payments"):
            raw += str(conn.exec_driver_sql(f"SELECT * FROM {table}").all())
    assert "4242424242424242" not in raw


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_openapi_is_published(backend: Backend, path: str) -> None:
    with backend.client() as c:
        assert c.get(path).status_code == 200


def test_kiosk_signed_receipt_address_opens_once_the_report_arrived(backend: Backend) -> None:
    from kiosk.outbox.receipt import receipt_signature

    sig_a = receipt_signature("secret-of-A", "S1")
    sig_b = receipt_signature("secret-of-B", "S1")
    with backend.client() as phone:
        assert phone.get(f"/r/k/S1/{sig_a}").status_code == 404  # not delivered yet
        with backend.station("A") as a, backend.station("B") as b:
            a.post(
                "/api/v1/sessions",
                json=session_body("S1", card(1), cdr={"kiosk_receipt": {"sig": sig_a}}),
            )
            b.post(
                "/api/v1/sessions",
                json=session_body(
                    "S1", card(2), cdr={"kiosk_receipt": {"sig": sig_b}}, total_cost=630
                ),
            )
        page_a = phone.get(f"/r/k/S1/{sig_a}")
        page_b = phone.get(f"/r/k/S1/{sig_b}")
        forged = phone.get(f"/r/k/S1/{sig_a[:-2]}xx")
    assert page_a.status_code == 200 and ">A<" in page_a.text
    assert page_b.status_code == 200 and ">B<" in page_b.text
    assert forged.status_code == 404


@pytest.mark.parametrize(
    ("utc_time", "now_line", "coming"),
    [
        # Monday 00:20 in Berlin: off-peak; the evening peak is announced.
        ("2026-12-06T23:20:00+00:00", "Now: €0.59 per kWh", "from 17:00: €0.69/kWh"),
        # Monday 18:00 in Berlin: the peak is in force until 21:00.
        ("2026-12-07T17:00:00+00:00", "Now: €0.69 per kWh", "from 21:00: €0.59/kWh"),
    ],
)
def test_pay_page_marks_the_price_in_force_in_the_station_time_zone(
    backend: Backend, utc_time: str, now_line: str, coming: str
) -> None:
    import json
    import re
    from datetime import datetime
    from pathlib import Path

    sample = Path(__file__).parents[2] / "assets" / "samples" / "tariff.json"
    backend.clock.now_value = datetime.fromisoformat(utc_time)
    body = link_body(tariff=json.loads(sample.read_text()), time_zone="Europe/Berlin")
    with backend.station("ST-TZ") as st:
        link = st.post("/api/v1/payment-links", json=body).json()
    with backend.client() as c:
        page = c.get(f"/pay/{link['id']}", params={"lang": "en"}).text
    strong = re.findall(r"<strong>([^<]*)</strong>", page)
    assert any(text.startswith(now_line) for text in strong), strong
    assert f'id="price-coming">{coming}<' in page
    assert "Parking fee applies from the minute charging ends" in page  # tariff_alt_text
    assert "only while your vehicle is connected and not charging" in page


def test_receipt_lines_add_up_to_what_the_card_was_charged(backend: Backend) -> None:
    # The session costs 6.25 by the tariff; the driver confirmed Stop at 6.24 and the kiosk
    # booked that: the receipt says what was not charged and totals the amount captured.
    with backend.station("ST-A") as st:
        r = st.post("/api/v1/sessions", json=session_body("S-STOP", card(77, captured=624)))
    url = r.json()["receipt_url"]
    with backend.client() as c:
        page = c.get(url.replace(backend.url, "")).text
    assert "Not charged (after Stop, or above the reservation)" in page
    assert "-€0.01" in page
    assert "€6.24" in page and "€6.25" not in page
