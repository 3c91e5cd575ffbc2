"""Refunds from the operator pages and the CLI: QR sessions through the gateway (sandbox and
Stripe, once per request), card sessions as an instruction for the acquirer, audited, on the
driver's receipt and in the day's totals."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from backend import cli
from backend.models import AuditEvent, ChargingSession, Refund, SandboxRefund
from tests.backend.conftest import Backend
from tests.backend.ops_steps import hidden, make_operator, signed_in
from tests.backend.steps import card, paid_link, report, session_body


def _session_pk(b: Backend, session_id: str) -> int:
    with b.svc.db.read() as s:
        pk = s.scalar(select(ChargingSession.pk).where(ChargingSession.session_id == session_id))
    assert pk is not None
    return pk


@pytest.fixture
def ops(sqlite_backend: Backend) -> Iterator[httpx.Client]:
    make_operator(sqlite_backend, "olga", "operator")
    c = signed_in(sqlite_backend, "olga")
    yield c
    c.close()


def _refund(c: httpx.Client, pk: int, amount: str, reason: str, key: str | None = None):  # type: ignore[no-untyped-def]
    page = c.get(f"/ops/sessions/{pk}")
    data = {
        "csrf": hidden(page.text, "csrf"),
        "request_key": key or hidden(page.text, "request_key"),
        "amount": amount,
        "reason": reason,
    }
    return c.post(f"/ops/sessions/{pk}/refund", data=data)


def test_qr_session_refunded_in_part_through_the_sandbox(
    sqlite_backend: Backend, ops: httpx.Client
) -> None:
    b = sqlite_backend
    with b.station("ST-1") as st:
        link = paid_link(b, st)
        ack = report(st, session_body("S-1", {"method": "link", "link_id": link}))
    pk = _session_pk(b, "S-1")
    r = _refund(ops, pk, "2,50", "connector fault, driver stopped early")
    assert r.status_code == 303 and r.headers["location"] == f"/ops/sessions/{pk}?done=refund"
    with b.svc.db.read() as s:
        row = s.scalars(select(Refund)).one()
        assert (row.amount_minor, row.status, row.actor, row.provider) == (
            250,
            "succeeded",
            "olga",
            "sandbox",
        )
        assert row.gateway_ref and row.gateway_ref.startswith("re_sbx_")
        assert s.scalars(select(SandboxRefund)).one().amount_minor == 250
        audit = [(a.actor, a.action, a.detail.get("reason")) for a in s.scalars(select(AuditEvent))]
    assert ("olga", "refund_requested", "connector fault, driver stopped early") in audit
    # What is left to refund, the day's totals and the driver's receipt all show it.
    page = ops.get(f"/ops/sessions/{pk}").text
    assert re.search(r'id="refundable">€3\.75<', page)
    day = ops.get("/ops/days/2026-03-02?station=ST-1").text
    assert re.search(r'id="refunded-ST-1">€2\.50<', day)
    assert re.search(r'id="captured-ST-1">€6\.25<', day)
    with b.client() as phone:
        receipt = phone.get(ack["receipt_url"]).text
    assert "Refunded" in receipt and "€2.50" in receipt, receipt[receipt.find("payment") :]


def test_more_than_is_left_is_refused_naming_the_amount(
    sqlite_backend: Backend, ops: httpx.Client
) -> None:
    b = sqlite_backend
    with b.station("ST-1") as st:
        report(st, session_body("S-1", {"method": "link", "link_id": paid_link(b, st)}))
    pk = _session_pk(b, "S-1")
    assert _refund(ops, pk, "6.00", "goodwill").status_code == 303
    r = _refund(ops, pk, "0.26", "goodwill again")
    assert r.status_code == 422 and "amount: at most 25 minor units" in r.text
    for amount, problem in (("0", "more than zero"), ("1.234", "more decimals"), ("x", "amount")):
        r = _refund(ops, pk, amount, "bad input")
        assert r.status_code == 422 and problem in r.text, amount
    assert _refund(ops, pk, "0.25", "").status_code == 422  # a reason is required


def test_a_repeated_post_refunds_once(backend: Backend) -> None:
    b = backend  # SQLite and PostgreSQL
    make_operator(b, "olga", "operator")
    ops = signed_in(b, "olga")
    with b.station("ST-1") as st:
        report(st, session_body("S-1", {"method": "link", "link_id": paid_link(b, st)}))
    pk = _session_pk(b, "S-1")
    key = "double-tap-0123456789"
    assert _refund(ops, pk, "6.25", "wrong tariff", key).status_code == 303
    assert _refund(ops, pk, "6.25", "wrong tariff", key).status_code == 303
    with b.svc.db.read() as s:
        assert len(s.scalars(select(Refund)).all()) == 1
        assert len(s.scalars(select(SandboxRefund)).all()) == 1
    ops.close()


def test_gateway_failure_leaves_the_refund_pending_and_a_retry_refunds_once(
    sqlite_backend: Backend, ops: httpx.Client
) -> None:
    b = sqlite_backend
    with b.station("ST-1") as st:
        report(st, session_body("S-1", {"method": "link", "link_id": paid_link(b, st)}))
    pk = _session_pk(b, "S-1")
    sandbox = b.svc.sandbox
    assert sandbox is not None
    sandbox.faults["refund"] = 1
    key = "retry-after-timeout-01"
    r = _refund(ops, pk, "1.00", "retry test", key)
    assert r.status_code == 502 and "injected refund failure" in r.text
    with b.svc.db.read() as s:
        assert s.scalars(select(Refund)).one().status == "pending"
    assert _refund(ops, pk, "1.00", "retry test", key).status_code == 303
    with b.svc.db.read() as s:
        assert s.scalars(select(Refund)).one().status == "succeeded"
        assert len(s.scalars(select(SandboxRefund)).all()) == 1


def test_card_session_refund_is_an_instruction_for_the_acquirer(
    sqlite_backend: Backend, ops: httpx.Client
) -> None:
    b = sqlite_backend
    with b.station("ST-1") as st:
        ack = report(st, session_body("S-CARD", card(17)))
    pk = _session_pk(b, "S-CARD")
    assert _refund(ops, pk, "6.25", "terminal booked twice").status_code == 303
    with b.svc.db.read() as s:
        row = s.scalars(select(Refund)).one()
    assert (row.status, row.provider, row.method) == ("instructed", "acquirer", "card")
    day = ops.get("/ops/days/2026-03-02").text
    assert re.search(r'id="refunded-ST-1">€6\.25<', day)
    with b.client() as phone:
        assert "Refund instructed" in phone.get(ack["receipt_url"]).text


def test_cli_refund(
    sqlite_backend: Backend,
    capsys: pytest.CaptureFixture[str],
) -> None:
    b = sqlite_backend
    with b.station("ST-1") as st:
        report(st, session_body("S-1", {"method": "link", "link_id": paid_link(b, st)}))
    parser = _parser()

    def refund(amount: str, reason: str) -> int:
        args = parser.parse_args(
            [
                *("refund", "--db", b.db_url, "ST-1", "S-1", "--amount", amount),
                *("--reason", reason, "--by", "support"),
            ]
        )
        return int(args.handler(args))

    assert refund("1.50", "phone call") == 0
    assert "succeeded" in capsys.readouterr().out
    assert refund("99", "too much") == 2
    assert "amount: at most 475" in capsys.readouterr().err
    with b.svc.db.read() as s:
        row = s.scalars(select(Refund)).one()
    assert (row.amount_minor, row.actor, row.reason) == (150, "support", "phone call")


def _parser():  # type: ignore[no-untyped-def]
    import argparse

    p = argparse.ArgumentParser()
    cli.add_arguments(p)
    return p
