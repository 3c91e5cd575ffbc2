"""Hostile tariff and period values: a 4xx naming the field, never a 500, never a stall."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.backend.conftest import Backend, tariff
from tests.backend.steps import link_body, session_body


def number(literal: str) -> str:
    """A JSON number written exactly as given (1E+999999), once :func:`raw_json` has run."""
    return f"\x00{literal}\x00"


def raw_json(value: Any) -> bytes:
    text = json.dumps(value)
    return re.sub(r'"\\u0000(.*?)\\u0000"', r"\1", text).encode()


def component(change: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def apply(t: dict[str, Any]) -> None:
        t["elements"][1]["price_components"][0].update(change)

    return apply


# (change to the tariff, the field the answer must name)
BAD_TARIFFS: list[tuple[Callable[[dict[str, Any]], None], list[str]]] = [
    (component({"type": {}}), ["elements", "1", "price_components", "0", "type"]),
    (component({"type": []}), ["elements", "1", "price_components", "0", "type"]),
    (lambda t: t.update(tax_included={}), ["tax_included"]),
    (
        lambda t: t.update(max_price={"excl_vat": 1, "incl_vat": number("1.1e27")}),
        ["max_price", "incl_vat"],
    ),
    (component({"vat": number("1E+999999")}), ["elements", "1", "price_components", "0", "vat"]),
    (
        component({"step_size": number("1E+999999")}),
        ["elements", "1", "price_components", "0", "step_size"],
    ),
    (
        component({"price": number("1E-999999")}),
        ["elements", "1", "price_components", "0", "price"],
    ),
]


def _bad_tariff(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    bad = tariff()
    change(bad)
    return bad


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(path, content=raw_json(body), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(("change", "loc"), BAD_TARIFFS)
def test_bad_tariff_values_are_a_422_naming_the_field(
    sqlite_backend: Backend, change: Callable[[dict[str, Any]], None], loc: list[str]
) -> None:
    bad = _bad_tariff(change)
    with sqlite_backend.station("ST-BAD") as st:
        for path, body in (
            ("/api/v1/payment-links", link_body(tariff=bad)),
            ("/api/v1/sessions", session_body("S-BAD", {"method": "none"}, tariff=bad)),
        ):
            r = _post(st, path, body)
            assert r.status_code == 422, (path, r.text)
            assert r.json()["detail"][0]["loc"] == ["body", "tariff", *loc], r.text
            assert r.headers.get("connection") != "close"  # the keep-alive connection stays


def test_bad_period_volume_is_a_422_naming_the_field(sqlite_backend: Backend) -> None:
    periods = [
        {
            "start_date_time": "2026-03-02T09:00:00Z",
            "dimensions": [{"type": "TIME", "volume": number("3.3e26")}],
        }
    ]
    body = session_body("S-VOL", {"method": "none"}, charging_periods=periods)
    with sqlite_backend.station("ST-VOL") as st:
        r = _post(st, "/api/v1/sessions", body)
    assert r.status_code == 422, r.text
    loc = ["body", "charging_periods", "0", "dimensions", "0", "volume"]
    assert r.json()["detail"][0]["loc"] == loc


def test_other_requests_are_served_while_a_bad_tariff_is_in_flight(
    sqlite_backend: Backend,
) -> None:
    # Before bounds, a step_size of 1E+999999 built a million-digit integer for about 50 s,
    # holding the interpreter: /healthz waited behind it. The bad requests are written first,
    # on their own connections; /healthz must answer well inside its 30 s timeout, and the
    # bad requests get their 422.
    bad = _bad_tariff(component({"step_size": number("1E+999999")}))
    url = urlsplit(sqlite_backend.url)
    with sqlite_backend.station("ST-STALL") as st:
        key = st.headers["Authorization"]
    sockets = []
    for path, body in (
        ("/api/v1/sessions", session_body("S-STALL", {"method": "none"}, tariff=bad)),
        ("/api/v1/payment-links", link_body(tariff=bad)),
    ):
        payload = raw_json(body)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n"
        )
        conn = socket.create_connection((url.hostname, url.port), timeout=120)
        conn.sendall(head.encode() + payload)
        sockets.append(conn)
    with httpx.Client(base_url=sqlite_backend.url, timeout=30) as plain:
        assert plain.get("/healthz").json() == {"status": "ok"}
    for conn in sockets:
        with conn:
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        status = answer.split(b" ", 2)[1]
        assert status == b"422", answer[:300]
        assert b'"step_size"' in answer


def test_a_cost_above_the_largest_amount_is_a_422(sqlite_backend: Backend) -> None:
    # Each number is in range; their product (10 kWh at 10^6 EUR/kWh + VAT) is not bookable.
    dear = _bad_tariff(component({"price": 1_000_000}))
    body = session_body("S-DEAR", {"method": "none"}, tariff=dear)
    with sqlite_backend.station("ST-DEAR") as st:
        r = _post(st, "/api/v1/sessions", body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "meter_end_wh"]
    assert "above the largest amount" in r.json()["detail"][0]["msg"]
