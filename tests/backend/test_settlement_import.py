"""What the payment providers settled and paid out, imported and reconciled: Stripe through
its API (against the simulator), acquirers' CSV files through their column mappings. Every
planted mismatch is found exactly once, and a clean line produces no finding."""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from backend import books, refunds
from backend.gateways.stripe import StripeGateway
from backend.models import ChargingSession, Payout, SettlementRecord
from backend.settlement_checks import SETTLEMENT_CLASSES
from backend.settlement_import import SettlementFileError, import_file, import_stripe
from tests.backend.conftest import Backend, start_backend
from tests.backend.steps import card, link_body, report, session_body
from tests.backend.stripe_sim import StripeSimulator
from tests.backend.test_stripe import SECRET, _checkout, stripe_sim  # noqa: F401 (fixture)

SAMPLES = Path(__file__).parent / "settlement_samples"
DAY = date(2026, 3, 2)


def _pk(b: Backend, session_id: str) -> int:
    with b.svc.db.read() as s:
        pk = s.scalar(select(ChargingSession.pk).where(ChargingSession.session_id == session_id))
    assert pk is not None
    return pk


def _classes(result: books.Books) -> Counter[str]:
    return Counter(f.cls for f in result.findings())


def test_adyen_settlement_details_each_planted_mismatch_found_once(backend: Backend) -> None:
    b = backend  # SQLite and PostgreSQL
    with b.station("ST-1") as st:
        for n in range(1, 8):
            report(st, session_body(f"S-{n}", card(n)))
    # Our own refund instruction for S-1: the acquirer's Refunded line of 3.00 is it.
    refunds.refund_session(
        b.svc, _pk(b, "S-1"), 300, reason="goodwill", actor="olga", request_key="r" * 20
    )
    data = (SAMPLES / "adyen_settlement_details.csv").read_bytes()
    assert import_file(b.svc.db, "adyen_settlement_details", data, "sample.csv", b.clock()) == 12
    assert import_file(b.svc.db, "adyen_settlement_details", data, "again.csv", b.clock()) == 0
    result = books.books(b.svc.db, b.svc.settings, DAY, date(2026, 3, 5))
    assert _classes(result) == {
        "settled_amount_differs": 1,  # S-2: 6.00 settled of 6.25
        "fee_differs": 1,  # S-3: 0.30 instead of 1.2 % + 0.10
        "captured_not_settled": 1,  # S-4 is in no line
        "settled_not_captured": 1,  # ORDER-ELSEWHERE
        "dispute": 1,  # S-5 charged back
        "refund_without_session": 1,  # S-6 refunded by the acquirer, not by us
        "payout_total_mismatch": 1,  # batch 7 paid 1.00 more than its lines
    }
    by_cls = {f.cls: f for f in result.findings()}
    assert "S-2" in str(by_cls["settled_amount_differs"].records)
    assert "S-4" in str(by_cls["captured_not_settled"].records)
    day = next(d for d in result.days if d.row.station_id == "ST-1")
    assert day.row.captured_minor == 7 * 625
    assert day.refunded_minor == 300
    # Settled: six charges (S-2 at 6.00), less the chargeback and two refunds.
    assert day.settled_minor == 625 * 5 + 600 - 625 - 625 - 300
    assert day.providers["card"]["captured"] == 7 * 625
    # Paid out: the lines of batches 7 and 8 (both arrived), net of fees.
    assert day.paid_out_minor == 607 + 583 + 595 + 607 - 625 + 607 - 625 - 300 + 607


def test_german_acquirer_file_with_terminal_and_receipt(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    with b.station("ST-1") as st:
        report(st, session_body("S-11", card(11)))
        report(st, session_body("S-12", card(12)))
    data = (SAMPLES / "de_card_acquirer.csv").read_bytes()
    assert import_file(b.svc.db, "de_card_acquirer", data, "abrechnung.csv", b.clock()) == 4
    with b.svc.db.read() as s:
        matched = s.scalars(select(SettlementRecord.payment_id)).all()
        payout = s.scalars(select(Payout)).one()
    assert None not in matched and (payout.external_id, payout.amount_minor) == ("A-1", 613)
    result = books.books(b.svc.db, b.svc.settings, DAY, date(2026, 3, 6))
    assert _classes(result) == {"dispute": 1}
    day = next(d for d in result.days if d.row.station_id == "ST-1")
    assert (day.settled_minor, day.fees_minor, day.paid_out_minor) == (625, 12, 613)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"Vorgangsnummer;Buchungsdatum\n", "header: column(s) Vorgangsart"),
        (
            "Vorgangsnummer;Buchungsdatum;Vorgangsart;Terminal-ID;Belegnummer;Währung;Betrag;"
            "Entgelt;Auszahlungsbetrag;Auszahlungsnummer\n"
            "V-1;32.03.2026;Umsatz;1;1;EUR;6,25;0;6,25;A\n".encode("cp1252"),
            "line 2 Buchungsdatum",
        ),
        (
            "Vorgangsnummer;Buchungsdatum;Vorgangsart;Terminal-ID;Belegnummer;Währung;Betrag;"
            "Entgelt;Auszahlungsbetrag;Auszahlungsnummer\n"
            "V-1;05.03.2026;Umsatz;1;1;EUR;6,255;0;6,25;A\n".encode("cp1252"),
            "line 2 Betrag",
        ),
    ],
)
def test_bad_settlement_files_name_the_place(
    sqlite_backend: Backend, text: bytes, problem: str
) -> None:
    with pytest.raises(SettlementFileError, match=re.escape(problem)):
        import_file(sqlite_backend.svc.db, "de_card_acquirer", text, "x.csv", datetime.now(UTC))


@pytest.fixture
def books_stripe(
    stripe_sim: StripeSimulator,  # noqa: F811
    tmp_path: Path,
) -> Iterator[Backend]:
    server, b = start_backend(
        f"sqlite:///{tmp_path / 'backend.db'}",
        gateway="stripe",
        stripe_api_key="sk_test_123",
        stripe_api_base=stripe_sim.base_url,
        stripe_webhook_secret=SECRET,
        settle_within=timedelta(0),  # the simulator books at once
    )
    # Webhooks are signed with the real time. Stripe stamps whole seconds: a capture
    # stamped later within the same second would not be due in any settlement yet.
    b.clock.now_value = datetime.now(UTC).replace(microsecond=0)
    stripe_sim.webhook_url = f"{server.url}/webhooks/stripe"
    with server:
        yield b
    b.svc.close()


def _stripe_session(b: Backend, sim: StripeSimulator, st: httpx.Client, session_id: str) -> str:
    """A QR session paid through Stripe Checkout and captured; returns its PaymentIntent."""
    link = st.post("/api/v1/payment-links", json=link_body(5000)).json()
    cs = _checkout(b, link["id"])
    assert sim.complete_checkout(cs).json() == {"result": "authorized"}
    report(st, session_body(session_id, {"method": "link", "link_id": link["id"]}))
    return str(sim.sessions[cs]["payment_intent"])


def test_stripe_balance_and_payouts_each_planted_mismatch_found_once(
    books_stripe: Backend,
    stripe_sim: StripeSimulator,  # noqa: F811
) -> None:
    b, sim = books_stripe, stripe_sim
    st = b.station("ST-S")
    _stripe_session(b, sim, st, "S-1")
    # Our refund of S-1 goes through Stripe once, however often it is asked for.
    key = "refund-" + secrets.token_hex(8)
    for _ in range(2):
        done = refunds.refund_session(
            b.svc, _pk(b, "S-1"), 100, reason="late start", actor="olga", request_key=key
        )
        assert done.status == "succeeded"
    assert [k for p, k in sim.requests if p == "/v1/refunds"] == [f"refund:{key}"]
    sim.pay_out()  # S-1 and its refund: a clean payout
    sim.next_fee = 99
    _stripe_session(b, sim, st, "S-2")  # planted: fee 0.99, not 1.5 % + 0.25
    _stripe_session(b, sim, st, "S-3")
    txn = sim.balance[-1]  # planted: Stripe booked 6.00 of the 6.25 captured
    txn.update(amount=600, fee=sim.agreed_fee(600), net=600 - sim.agreed_fee(600))
    pi4 = _stripe_session(b, sim, st, "S-4")
    sim.dispute(pi4, 625)  # planted
    _stripe_session(b, sim, st, "S-5")
    sim.balance.pop()  # planted: the capture of S-5 never reaches the balance
    sim.book_charge("pi_not_ours", 1000)  # planted
    sim.refund_outside("pi_not_ours_either", 300)  # planted
    sim.pay_out(amount=sum(t["net"] for t in sim.balance if t["payout"] is None) + 1)  # planted
    st.close()
    gw = StripeGateway("sk_test_123", sim.base_url)
    try:
        since = b.clock() - timedelta(days=1)
        first = import_stripe(b.svc.db, gw, since, b.clock())
        assert import_stripe(b.svc.db, gw, since, b.clock()) == 0  # nothing twice
    finally:
        gw.close()
    assert first == len(sim.balance) - 2 + 2  # lines less the 2 payout lines, plus 2 payouts
    result = books.books(b.svc.db, b.svc.settings, DAY, b.clock().date())
    assert _classes(result) == dict.fromkeys(SETTLEMENT_CLASSES, 1)
    day = next(d for d in result.days if d.row.station_id == "ST-S")
    assert day.row.captured_minor == 5 * 625 and day.refunded_minor == 100
    assert day.providers["stripe"]["refunded"] == 100
    fees = [sim.agreed_fee(625), 99, sim.agreed_fee(600), sim.agreed_fee(625), 1500]
    assert day.fees_minor == sum(fees)


def test_findings_read_as_money_in_the_operators_language(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    with b.station("ST-1") as st:
        for n in range(1, 8):
            report(st, session_body(f"S-{n}", card(n)))
    data = (SAMPLES / "adyen_settlement_details.csv").read_bytes()
    import_file(b.svc.db, "adyen_settlement_details", data, "sample.csv", b.clock())
    result = books.books(b.svc.db, b.svc.settings, DAY, date(2026, 3, 5))
    found = {f.cls: f for f in result.findings()}
    assert found["fee_differs"].text("en") == "fee €0.30, agreed €0.18"
    assert found["settled_amount_differs"].text("de") == (
        "abgerechnet 6,00\xa0€, eingezogen 6,25\xa0€"
    )
    assert found["payout_total_mismatch"].text("en") == (
        "payout €25.27, its transactions add up to €24.27"
    )
