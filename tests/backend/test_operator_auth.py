"""Who may see and do what on the operator pages: sign-in, sessions, CSRF, roles, limits."""

from __future__ import annotations

import pytest

from backend import operators
from backend.models import ChargingSession, Operator, Refund
from tests.backend.conftest import Backend
from tests.backend.ops_steps import (
    PASSWORD,
    csrf_of,
    hidden,
    make_operator,
    signed_in,
    try_login,
)
from tests.backend.steps import paid_link, report, session_body


def test_pages_need_a_signed_in_operator(sqlite_backend: Backend) -> None:
    with sqlite_backend.client() as c:
        for path in ("/ops/stations", "/ops/days", "/ops/findings", "/ops/export.csv"):
            r = c.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/ops/login"), path


def test_password_is_stored_as_argon2id_and_checked(sqlite_backend: Backend) -> None:
    make_operator(sqlite_backend, "anna", "viewer")
    with sqlite_backend.svc.db.read() as s:
        stored = s.query(Operator).one().password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with sqlite_backend.client() as c:
        assert try_login(c, "anna", "wrong password!!").status_code == 401
        assert try_login(c, "nobody", PASSWORD).status_code == 401
        assert try_login(c, "anna", PASSWORD).status_code == 303


def test_bad_account_data_names_the_field(sqlite_backend: Backend) -> None:
    with pytest.raises(operators.OperatorError, match=r"^password:"):
        make_operator_pw(sqlite_backend, "short")
    with pytest.raises(operators.OperatorError, match=r"^role:"):
        operators.add_operator(
            sqlite_backend.svc.db, sqlite_backend.clock(), "x", PASSWORD, role="root"
        )
    make_operator(sqlite_backend, "anna", "viewer")
    with pytest.raises(operators.OperatorError, match=r"^username:.*exists"):
        make_operator(sqlite_backend, "anna", "admin")


def make_operator_pw(backend: Backend, password: str) -> None:
    operators.add_operator(backend.svc.db, backend.clock(), "bert", password, role="viewer")


def test_station_keys_cannot_sign_in(sqlite_backend: Backend) -> None:
    make_operator(sqlite_backend, "anna", "admin")
    station = sqlite_backend.station("ST-1")
    key = station.headers["Authorization"].removeprefix("Bearer ")
    # A station key as a bearer header opens no operator page ...
    r = station.get("/ops/days")
    assert r.status_code == 303 and r.headers["location"].startswith("/ops/login")
    # ... and is no password, neither under the station's id nor an operator's name.
    with sqlite_backend.client() as c:
        assert try_login(c, "ST-1", key).status_code == 401
        assert try_login(c, "anna", key).status_code == 401
    station.close()


def test_a_session_cannot_be_replayed_after_logout(sqlite_backend: Backend) -> None:
    make_operator(sqlite_backend, "anna", "operator")
    c = signed_in(sqlite_backend, "anna")
    cookie = c.cookies.get("evk_ops")
    assert cookie and c.get("/ops/stations").status_code == 200
    r = c.post("/ops/logout", data={"csrf": csrf_of(c)})
    assert r.status_code == 303
    with sqlite_backend.client() as thief:
        thief.cookies.set("evk_ops", cookie, domain="127.0.0.1", path="/ops")
        r = thief.get("/ops/stations")
        assert r.status_code == 303 and r.headers["location"].startswith("/ops/login")
    c.close()


def test_sessions_expire(sqlite_backend: Backend) -> None:
    make_operator(sqlite_backend, "anna", "viewer")
    c = signed_in(sqlite_backend, "anna")
    sqlite_backend.clock.advance(hours=13)
    assert c.get("/ops/stations").status_code == 303
    c.close()


def test_posts_without_the_csrf_token_are_refused(sqlite_backend: Backend) -> None:
    make_operator(sqlite_backend, "anna", "operator")
    c = signed_in(sqlite_backend, "anna")
    r = c.post("/ops/logout", data={"csrf": "forged"})
    assert r.status_code == 403 and "This form has expired" in r.text
    assert c.get("/ops/stations").status_code == 200  # still signed in
    # The sign-in form is protected too (double-submit token).
    with sqlite_backend.client() as other:
        r = other.post("/ops/login", data={"username": "anna", "password": PASSWORD})
        assert r.status_code == 403
    c.close()


def test_login_is_rate_limited_per_user(sqlite_backend: Backend) -> None:
    make_operator(sqlite_backend, "anna", "viewer")
    with sqlite_backend.client() as c:
        for _ in range(operators.MAX_FAILURES_PER_USER):
            assert try_login(c, "anna", "guess guess guess").status_code == 401
        # Even the right password is refused while the limit holds ...
        assert try_login(c, "anna", PASSWORD).status_code == 429
    # ... and accepted once the failures have aged out of the window.
    sqlite_backend.clock.advance(minutes=16)
    with sqlite_backend.client() as c:
        assert try_login(c, "anna", PASSWORD).status_code == 303


def test_a_viewer_cannot_refund_or_resolve(sqlite_backend: Backend) -> None:
    make_operator(sqlite_backend, "vera", "viewer")
    with sqlite_backend.station("ST-1") as st:
        link = paid_link(sqlite_backend, st)
        report(st, session_body("S-1", {"method": "link", "link_id": link}))
    with sqlite_backend.svc.db.read() as s:
        pk = s.query(ChargingSession.pk).scalar()
    c = signed_in(sqlite_backend, "vera")
    page = c.get(f"/ops/sessions/{pk}")
    assert page.status_code == 200 and "refund-form" not in page.text
    r = c.post(
        f"/ops/sessions/{pk}/refund",
        data={
            "csrf": hidden(page.text, "csrf"),
            "amount": "1.00",
            "reason": "test",
            "request_key": "k" * 20,
        },
    )
    assert r.status_code == 403
    r = c.post(
        "/ops/findings/resolve",
        data={"csrf": hidden(page.text, "csrf"), "key": "x", "day": "2026-03-02", "note": "n"},
    )
    assert r.status_code == 403
    with sqlite_backend.svc.db.read() as s:
        assert s.query(Refund).count() == 0
    c.close()


def test_cookie_is_httponly_strict_and_scoped(sqlite_backend: Backend) -> None:
    make_operator(sqlite_backend, "anna", "viewer")
    with sqlite_backend.client() as c:
        r = try_login(c, "anna", PASSWORD)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/ops" in cookie
