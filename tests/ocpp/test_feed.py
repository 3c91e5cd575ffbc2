"""What the CSMS is told about the end of a session's money, and how the payment is named:
C21 Settled, C20 Canceled, C22 Rejected and Failed; the masked card data only."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from kiosk.journal.csms_feed import cost_details, id_token, settlement
from kiosk.session.model import Authorisation, Offer, Session, Settlement
from kiosk.session.names import PaymentMethod, Phase

AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
OFFER = Offer("t", "{}", "EUR", 5000, vat_percent=Decimal(19))
CARD = Authorisation(
    PaymentMethod.CARD,
    5000,
    "EUR",
    receipt_no=7,
    trace_no=9,
    terminal_id="52500001",
    masked_pan="476173******0119",
    card_brand="VISA",
)
SESSION = Session("s1", "1", Phase.RECEIPT, OFFER, AT, AT, auth=CARD, started_at=AT)


def ended_with(settled: Settlement) -> Session:
    return replace(SESSION, settlement=settled)


def test_a_confirmed_booking_is_settled_with_its_amount() -> None:
    call = settlement(ended_with(Settlement(1234, confirmed=True, receipt_no=8)), AT)
    assert call.action == "NotifySettlement" and call.kind == "settled"
    assert call.payload["status"] == "Settled"
    assert call.payload["settlementAmount"] == Decimal("12.34")
    assert call.payload["pspRef"] == "52500001-9-7" and call.payload["transactionId"] == "s1"
    assert call.payload["receiptId"] == "8"


def test_a_released_hold_is_canceled_at_zero() -> None:
    call = settlement(ended_with(Settlement(0, confirmed=True)), AT)
    assert call.payload["status"] == "Canceled" and call.payload["settlementAmount"] == 0


def test_a_booking_the_terminal_did_not_confirm_is_failed_with_why() -> None:
    call = settlement(ended_with(Settlement(1234, confirmed=False)), AT)
    assert call.payload["status"] == "Failed" and "did not confirm" in call.payload["statusInfo"]


def test_a_booking_the_terminal_refused_is_rejected_with_the_amount_and_the_code() -> None:
    call = settlement(ended_with(Settlement(1234, confirmed=False, refused_code=0x05)), AT)
    assert call.kind == "rejected" and call.payload["status"] == "Rejected"
    assert call.payload["settlementAmount"] == Decimal("12.34")
    assert "refused" in call.payload["statusInfo"] and "05" in call.payload["statusInfo"]
    assert len(call.payload["statusInfo"]) <= 500


def test_the_token_names_the_payment_and_carries_only_masked_card_data() -> None:
    token = id_token(CARD)
    assert token["type"] == "DirectPayment" and token["idToken"] == "52500001-9-7"
    assert {"additionalIdToken": "476173******0119", "type": "MaskedPAN"} in token["additionalInfo"]
    full = replace(CARD, masked_pan="4761731234560119")  # a driver that forgot to mask
    for info in id_token(full)["additionalInfo"]:
        assert not re.search(r"\d{11,}", info["additionalIdToken"])
    assert id_token(replace(CARD, masked_pan=None, card_brand=None)).get("additionalInfo") is None


def test_cost_details_carry_the_gross_and_the_receipts_net() -> None:
    details = cost_details(SESSION, 1190, AT)
    assert details["totalCost"]["total"] == {
        "inclTax": Decimal("11.90"),
        "exclTax": Decimal("10.00"),
    }
    assert details["totalUsage"] == {"energy": Decimal(0), "chargingTime": 0, "idleTime": 0}
