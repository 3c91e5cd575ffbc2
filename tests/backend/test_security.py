"""Security: station isolation, keys, webhooks, single-use links, hostile bodies."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st_

from backend.gateways.stripe import sign_payload
from backend.models import Payment, SandboxIntent, Station
from backend.stations import rotate_key
from tests.backend.conftest import Backend, tariff
from tests.backend.steps import card, link_body, paid_link, pay, session_body


def test_station_cannot_touch_another_stations_records(backend: Backend) -> None:
    with backend.station("A") as a, backend.station("B") as b:
        link = a.post("/api/v1/payment-links", json=link_body()).json()
        assert pay(backend, link["id"]) == 303
        assert b.get(f"/api/v1/payment-links/{link['id']}").status_code == 404
        assert b.post(f"/api/v1/payment-links/{link['id']}/cancel").status_code == 404
        stolen = b.post(
            "/api/v1/sessions", json=session_body("S1", {"method": "link", "link_id": link["id"]})
        )
        assert stolen.status_code == 404
        assert "payment.link_id" in stolen.text
        a.post("/api/v1/sessions", json=session_body("S9", card(1)))
        assert b.get("/api/v1/sessions/S9").status_code == 404
        assert a.get("/api/v1/sessions/S9").status_code == 200
        # The same session id at another station is another session.
        assert b.post("/api/v1/sessions", json=session_body("S9", card(1))).status_code == 201
        assert a.get(f"/api/v1/payment-links/{link['id']}").json()["status"] == "authorized"


def test_missing_or_wrong_keys_get_401(backend: Backend) -> None:
    with backend.station("A") as a:
        good = a.headers["Authorization"]
    key_id = good.split("_")[1]
    bad_headers: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": f"Bearer evk_{key_id}_wrongsecret"},
        {"Authorization": good.replace("Bearer", "Basic")},
        {"Authorization": good[:-1] + ("A" if good[-1] != "A" else "B")},
    ]
    with backend.client() as c:
        for headers in bad_headers:
            r = c.post("/api/v1/payment-links", json=link_body(), headers=headers)
            assert r.status_code == 401, headers
            assert r.headers["WWW-Authenticate"] == "Bearer"
        assert c.get("/api/v1/payment-links/x", headers=bad_headers[3]).status_code == 401


def test_keys_are_stored_hashed_and_rotation_revokes(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    with b.station("A") as a:
        old = a.headers["Authorization"].removeprefix("Bearer ")
        with b.svc.db.session() as s:
            row = s.get(Station, "A")
            assert row is not None
            assert old.split("_", 2)[2] not in (row.key_hash, row.key_id)
        new = rotate_key(b.svc.db, "A")
        assert a.post("/api/v1/payment-links", json=link_body()).status_code == 401
        a.headers["Authorization"] = f"Bearer {new}"
        assert a.post("/api/v1/payment-links", json=link_body()).status_code == 201


def _webhook(
    b: Backend, event: dict[str, Any], *, secret: str = "whsec_test", age: int = 0
) -> httpx.Response:
    payload = json.dumps(event).encode()
    ts = int(b.clock().timestamp()) - age
    with b.client() as c:
        return c.post(
            "/webhooks/stripe",
            content=payload,
            headers={
                "Stripe-Signature": sign_payload(payload, secret, ts),
                "Content-Type": "application/json",
            },
        )


def _completed(link_id: str, event_id: str = "evt_1", amount: int = 5000) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_1",
                "object": "checkout.session",
                "client_reference_id": link_id,
                "metadata": {"link_id": link_id},
                "payment_intent": "pi_test_1",
                "amount_total": amount,
                "currency": "eur",
                "payment_status": "unpaid",
                "status": "complete",
            }
        },
    }


def test_signed_webhook_authorizes_and_forged_or_replayed_are_rejected(backend: Backend) -> None:
    with backend.station("A") as a:
        link = a.post("/api/v1/payment-links", json=link_body()).json()
        forged = _webhook(backend, _completed(link["id"]), secret="whsec_wrong")
        stale = _webhook(backend, _completed(link["id"]), age=301)
        assert forged.status_code == 400 and "signature" in forged.text
        assert stale.status_code == 400 and "old" in stale.text
        assert a.get(f"/api/v1/payment-links/{link['id']}").json()["status"] == "pending"
        # Tampering with a correctly signed body breaks the signature.
        payload = json.dumps(_completed(link["id"])).encode()
        header = sign_payload(payload, "whsec_test", int(backend.clock().timestamp()))
        with backend.client() as c:
            tampered = c.post(
                "/webhooks/stripe",
                content=payload.replace(b"5000", b"1"),
                headers={"Stripe-Signature": header},
            )
            unsigned = c.post("/webhooks/stripe", content=payload)
        assert tampered.status_code == 400 and unsigned.status_code == 400
        ok = _webhook(backend, _completed(link["id"]))
        again = _webhook(backend, _completed(link["id"]))
        assert ok.json() == {"result": "authorized"}
        assert again.json() == {"result": "duplicate event ignored"}
        assert a.get(f"/api/v1/payment-links/{link['id']}").json()["status"] == "authorized"
    with backend.svc.db.session() as s:
        assert s.query(Payment).count() == 1


def test_link_cannot_be_paid_twice(backend: Backend) -> None:
    with backend.station("A") as a:
        link_id = paid_link(backend, a)
        assert pay(backend, link_id) == 409
    with backend.svc.db.session() as s:
        assert s.query(Payment).count() == 1


def test_concurrent_double_pay_leaves_exactly_one_hold(backend: Backend) -> None:
    with backend.station("A") as a:
        link = a.post("/api/v1/payment-links", json=link_body()).json()
    codes: list[int] = []
    threads = [
        threading.Thread(target=lambda: codes.append(pay(backend, link["id"]))) for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes).count(303) == 1
    with backend.svc.db.session() as s:
        assert s.query(Payment).count() == 1
        open_holds = (
            s.query(SandboxIntent).filter(SandboxIntent.status == "requires_capture").count()
        )
        assert open_holds == 1  # every losing attempt released its own hold


def test_link_refuses_cards_after_five_declines(backend: Backend) -> None:
    with backend.station("A") as a:
        link = a.post("/api/v1/payment-links", json=link_body()).json()
        codes = [pay(backend, link["id"], "4000000000000002") for _ in range(5)]
        assert codes == [402] * 5
        assert pay(backend, link["id"]) == 429  # even a good card: start again at the kiosk
        assert a.get(f"/api/v1/payment-links/{link['id']}").json()["status"] == "pending"
    with backend.svc.db.session() as s:
        assert s.query(SandboxIntent).count() == 0


def test_link_cannot_be_paid_after_expiry(backend: Backend) -> None:
    with backend.station("A") as a:
        link = a.post("/api/v1/payment-links", json=link_body()).json()
        backend.clock.advance(minutes=16)
        assert pay(backend, link["id"]) == 409
        assert a.get(f"/api/v1/payment-links/{link['id']}").json()["status"] == "expired"
        # A Stripe completion arriving after expiry does not revive it either.
        assert (
            _webhook(backend, _completed(link["id"], "evt_late"))
            .json()["result"]
            .startswith("released")
        )


def test_pages_allow_no_scripts_and_no_framing(backend: Backend) -> None:
    with backend.station("A") as a:
        link = a.post("/api/v1/payment-links", json=link_body()).json()
    with backend.client() as c:
        page = c.get(f"/pay/{link['id']}")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'none'" in csp and page.headers["X-Frame-Options"] == "DENY"
    assert "<script" not in page.text


def test_unknown_link_page_is_404(backend: Backend) -> None:
    with backend.client() as c:
        assert c.get("/pay/pl_doesnotexist").status_code == 404
        assert c.get("/r/nonsense").status_code == 404


def test_oversized_and_malformed_bodies_get_4xx(backend: Backend) -> None:
    with backend.station("A") as a:
        big = link_body()
        big["tariff"]["tariff_alt_text"] = [{"language": "en", "text": "x" * 600_000}]
        assert a.post("/api/v1/payment-links", json=big).status_code == 413
        chunks = (b"x" * 65536 for _ in range(20))  # streamed, no Content-Length
        assert a.post("/api/v1/sessions", content=chunks).status_code == 413
        cases: list[tuple[bytes | str, int]] = [
            (b"{", 422),
            (b"[]", 422),
            (b"null", 422),
            (b"\xff\xfe", 422),
            (json.dumps(link_body()).replace('"price": 0.49', '"price": NaN'), 422),
            (json.dumps(link_body()).replace('"price": 0.49', '"price": Infinity'), 422),
            (json.dumps({**link_body(), "amount": 50.0}), 422),
            (json.dumps({**link_body(), "amount": -1}), 422),
            (json.dumps({**link_body(), "amount": 0}), 422),
            (json.dumps({**link_body(), "amount": "5000"}), 422),
            (json.dumps({**link_body(), "amount": 10**30}), 422),
            (json.dumps({**link_body(), "currency": "EURO"}), 422),
            (json.dumps({**link_body(), "currency": "XYZ"}), 422),
            (json.dumps({**link_body(), "time_zone": "Mars/Base"}), 422),
            (json.dumps({**link_body(), "surprise": 1}), 422),
            (json.dumps({**link_body(), "tariff": {"currency": "EUR"}}), 422),
            (
                json.dumps(
                    {
                        **link_body(),
                        "tariff": {**tariff(), "end_date_time": "0001-01-01T00:00:01+00:01"},
                    }
                ),
                422,
            ),
        ]
        for body, expected in cases:
            r = a.post(
                "/api/v1/payment-links", content=body, headers={"Content-Type": "application/json"}
            )
            assert r.status_code == expected, (body[:80], r.status_code, r.text[:200])
        bad_tariff = a.post(
            "/api/v1/payment-links", json={**link_body(), "tariff": {"currency": "EUR"}}
        )
        assert "tariff" in json.dumps(bad_tariff.json()["detail"][0]["loc"])


def test_full_card_number_is_refused_and_not_echoed(backend: Backend) -> None:
    pan = "4111111111111111"
    with backend.station("A") as a:
        r = a.post("/api/v1/sessions", json=session_body("S1", {**card(1), "masked_pan": pan}))
    assert r.status_code == 422
    assert "masked" in r.text and pan not in r.text


def test_full_card_number_in_a_batch_is_refused_and_not_echoed(backend: Backend) -> None:
    pan = "4111111111111111"
    records = [session_body("S1", card(1)), session_body("S2", {**card(2), "masked_pan": pan})]
    with backend.station("A") as a:
        r = a.post("/api/v1/sessions:batch", json={"sessions": records})
    assert r.status_code == 200
    assert [x["status_code"] for x in r.json()["results"]] == [201, 422]
    assert "masked" in r.text and pan not in r.text


def test_session_report_edge_cases_are_4xx(backend: Backend) -> None:
    with backend.station("A") as a:
        backwards = session_body("S1", card(1), meter_end_wh=1)
        r = a.post("/api/v1/sessions", json=backwards)
        assert r.status_code == 422 and "meter_end_wh" in r.text
        naive = session_body("S2", card(1), end_date_time="2026-03-02T10:00:00")
        assert a.post("/api/v1/sessions", json=naive).status_code == 422
        for when in (
            "0001-01-01T00:00:01+00:01",
            "9999-12-31T23:59:59-01:00",
            "1970-01-01T00:00:00Z",
        ):
            far = {"payment": card(1), "currency": "EUR", "occurred_at": when}
            assert a.post("/api/v1/payments", json=far).status_code == 422, when
        other_currency = session_body("S3", card(1), currency="GBP")
        assert a.post("/api/v1/sessions", json=other_currency).status_code == 422
        bad_period = session_body("S4", card(1), charging_periods=[{"start_date_time": "x"}])
        assert a.post("/api/v1/sessions", json=bad_period).status_code == 422


JSONISH = st_.recursive(
    st_.none()
    | st_.booleans()
    | st_.integers()
    | st_.text(max_size=20)
    | st_.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st_.lists(inner, max_size=4) | st_.dictionaries(st_.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st_.sampled_from([*session_body("S", card(1)), "charging_periods", "cdr"]),
    value=JSONISH,
)
def test_fuzzed_session_fields_never_cause_500(
    sqlite_backend: Backend, field: str, value: object
) -> None:
    with sqlite_backend.station(f"F{time.monotonic_ns()}") as st:
        key = st.headers["Authorization"]
    body = session_body(f"S{time.monotonic_ns()}", card(1))
    body[field] = value
    with sqlite_backend.client() as c:
        r = c.post("/api/v1/sessions", json=body, headers={"Authorization": key})
    assert r.status_code < 500, r.text


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(element=JSONISH)
def test_fuzzed_tariffs_never_cause_500(sqlite_backend: Backend, element: object) -> None:
    t = tariff()
    t["elements"] = [element]
    with sqlite_backend.station(f"T{time.monotonic_ns()}") as st:
        key = st.headers["Authorization"]
    with sqlite_backend.client() as c:
        r = c.post(
            "/api/v1/payment-links",
            json={**link_body(), "tariff": t},
            headers={"Authorization": key},
        )
    assert r.status_code in (201, 422), r.text


PERIOD = st_.fixed_dictionaries(
    {
        "start_date_time": st_.sampled_from(
            [
                "2026-03-02T09:00:00Z",
                "2026-03-02T09:30:00+01:00",
                "0001-01-01T00:00:01+00:01",
                "9999-12-31T23:59:59-01:00",
                "x",
            ]
        )
    },
    optional={
        "dimensions": st_.lists(
            st_.fixed_dictionaries(
                {"type": st_.sampled_from(["ENERGY", "TIME", "PARKING_TIME", "MAX_POWER", "X"])},
                optional={"volume": JSONISH},
            ),
            max_size=3,
        ),
        "tariff_id": JSONISH,
    },
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(periods=st_.lists(PERIOD | JSONISH, max_size=3))
def test_fuzzed_charging_periods_never_cause_500(
    sqlite_backend: Backend, periods: list[object]
) -> None:
    with sqlite_backend.station(f"P{time.monotonic_ns()}") as st:
        r = st.post(
            "/api/v1/sessions",
            json=session_body(f"S{time.monotonic_ns()}", card(1), charging_periods=periods),
        )
    assert r.status_code in (201, 422), r.text
