"""The kiosk's HTTP client against the real backend and a faulty front: every failure is a
BackendError with a clear message, a 4xx is told apart from a transient failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.backend_client import BackendRejected, HttpBackend
from kiosk.devices import BackendError, LinkStatus
from tests.e2e.faultproxy import FaultProxy
from tests.e2e.rig import BackendProcess, tariff


def create(client: HttpBackend, key: str = "k1") -> str:
    tariff_json = json.dumps(tariff())
    return client.create_payment_link("1", 2500, "EUR", {"tariff_json": tariff_json}, key).id


def test_links_round_trip_and_are_idempotent(backend: BackendProcess) -> None:
    client = HttpBackend(backend.url, backend.token, time_zone="Europe/Berlin")
    link_id = create(client, "same-key")
    assert create(client, "same-key") == link_id
    link = client.wait_payment_link(link_id, 0.1)
    assert link.status is LinkStatus.PENDING and link.amount_minor == 2500
    assert client.cancel_payment_link(link_id).status is LinkStatus.CANCELLED
    assert client.ping() is True
    client.close()


@pytest.mark.parametrize(
    ("fault", "says"),
    [("500", "HTTP 500"), ("truncate", "not a JSON object"), ("down", "cannot reach")],
)
def test_transient_failures_are_backend_errors(
    backend: BackendProcess, fault: str, says: str
) -> None:
    with FaultProxy(backend.url) as proxy:
        client = HttpBackend(proxy.url, backend.token)
        proxy.mode = fault
        with pytest.raises(BackendError, match=says) as caught:
            create(client)
        assert not isinstance(caught.value, BackendRejected)
        client.close()


def test_a_timeout_names_itself(backend: BackendProcess) -> None:
    with FaultProxy(backend.url) as proxy:
        proxy.mode, proxy.hang_s = "timeout", 1.0
        client = HttpBackend(proxy.url, backend.token, timeout_s=0.3)
        with pytest.raises(BackendError, match="no answer in time"):
            create(client)
        client.close()


def test_refusals_are_told_apart(backend: BackendProcess) -> None:
    client = HttpBackend(backend.url, backend.token)
    with pytest.raises(BackendRejected) as caught:  # the request itself is wrong: 4xx
        client.create_payment_link("1", -5, "EUR", {"tariff_json": json.dumps(tariff())}, "k")
    assert 400 <= caught.value.status_code < 500
    ack = client.report("session", "session:x", {"session_id": "x"})
    assert not ack.accepted and ack.status_code == 0  # not even sendable: no such fields
    unknown = client.report("coffee", "coffee:1", {})
    assert not unknown.accepted and "unknown kind" in str(unknown.body["detail"])
    client.close()


def test_a_refused_station_key_is_retried_not_parked(backend: BackendProcess) -> None:
    # A wrong or rotated key is fixed by the operator; the queued reports must then go
    # through, so the refusal is a transient failure and never a parked record.
    wrong_key = HttpBackend(backend.url, "not-a-key")
    with pytest.raises(BackendError, match="check \\[backend\\] token") as caught:
        create(wrong_key)
    assert not isinstance(caught.value, BackendRejected)
    with pytest.raises(BackendError, match="HTTP 401"):
        wrong_key.report("end_of_day", "eod:x", {"terminal_id": "T"})
    wrong_key.close()


def test_nothing_answers_and_a_missing_ca_bundle(tmp_path: Path) -> None:
    client = HttpBackend("http://127.0.0.1:9", "k", timeout_s=0.5)
    assert client.ping() is False
    with pytest.raises(BackendError, match="cannot reach"):
        client.wait_payment_link("pl_x", 0)
    client.close()
    with pytest.raises(BackendError, match="CA bundle"):
        HttpBackend("https://127.0.0.1:9", "k", ca_bundle=tmp_path / "missing.pem")


def test_session_records_become_the_apis_payment_shapes() -> None:
    from drivers.backend_client.wire import session_body

    base: dict[str, object] = {
        "session_id": "S1",
        "connector_id": "1",
        "created_at": "2026-03-02T09:00:00+00:00",
        "started_at": None,
        "ended_at": None,
        "tariff": json.dumps(tariff()),
        "currency": "EUR",
        "meter_start_wh": None,
        "meter_end_wh": None,
        "cost_minor": 0,
        "readings": [],
    }
    card = {"method": "card", "amount_minor": 5000, "terminal_id": "T1", "receipt_no": 7}
    booked = {**base, "authorisation": card, "final_minor": 420, "settlement_confirmed": True,
              "settlement_receipt_no": 8}  # fmt: skip
    payment = session_body(booked, "UTC")["payment"]
    assert (payment["status"], payment["captured_amount"], payment["receipt_no"]) == (
        "captured",
        420,
        8,
    )
    reversed_ = {**base, "authorisation": card, "final_minor": 0, "settlement_confirmed": True}
    assert session_body(reversed_, "UTC")["payment"]["status"] == "released"
    unknown = {**base, "authorisation": card, "final_minor": 420, "settlement_confirmed": False}
    assert session_body(unknown, "UTC")["payment"]["status"] == "authorized"
    qr = {**base, "authorisation": {"method": "qr", "link_id": "pl_1", "amount_minor": 3000}}
    assert session_body(qr, "UTC")["payment"] == {"method": "link", "link_id": "pl_1"}
    never_started = session_body({**base, "authorisation": None}, "UTC")
    assert never_started["payment"] == {"method": "none"}
    assert never_started["meter_start_wh"] == never_started["meter_end_wh"] == 0
    # No energy, no charge: a session fee the kiosk computed is not reported as the cost.
    released_qr = session_body({**qr, "cost_minor": 77}, "UTC")
    assert released_qr["total_cost"] == 0
    charged = {**qr, "cost_minor": 77, "meter_start_wh": 1000, "meter_end_wh": 1500}
    assert session_body(charged, "UTC")["total_cost"] == 77
