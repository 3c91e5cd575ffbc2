"""Terminal messages → the core's value types (CardResult, OpenPreauth, EndOfDayTotals)."""

from __future__ import annotations

from drivers.zvt.codec.bmp import RECEIPT_ANY
from drivers.zvt.codec.messages import Message
from drivers.zvt.protocol import Exchange
from drivers.zvt.results import CARD_TYPE_BRANDS, CURRENCY_CODES, classify
from kiosk.devices import BrandTotal, CardResult, EndOfDayTotals, OpenPreauth, PaymentOutcome


def card_result(
    message: Message, currency: str, reference: str | None, receipt: list[str]
) -> CardResult:
    code = message.int_field("result_code")
    outcome = classify(code).outcome if code is not None else PaymentOutcome.APPROVED
    card_type = message.int_field("card_type")
    brand = CARD_TYPE_BRANDS.get(card_type) if card_type is not None else None
    currency_code = message.int_field("currency_code")
    return CardResult(
        outcome=outcome,
        amount_minor=message.int_field("amount") or 0,
        currency=CURRENCY_CODES.get(currency_code, currency) if currency_code else currency,
        raw_result_code=code,
        receipt_no=message.int_field("receipt_no"),
        trace_no=message.int_field("trace_no"),
        terminal_id=message.str_field("terminal_id"),
        auth_code=message.str_field("auth_code") or None,
        masked_pan=message.str_field("pan"),
        card_brand=brand or message.str_field("card_name"),
        card_date=message.str_field("date"),
        card_time=message.str_field("time"),
        receipt_text=tuple(receipt),
        reference=reference,
    )


def _as_int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def open_receipts(message: Message | None) -> list[OpenPreauth]:
    """The 06 1E B8 87 <rno> [06 {23 {08 rno}…}] answer to the open pre-auth enquiry."""
    if message is None:
        return []
    found: dict[int, OpenPreauth] = {}
    first = message.int_field("receipt_no")
    if first is not None and first != RECEIPT_ANY:
        found[first] = OpenPreauth(first)
    listing = message.find_tlv(0x23)
    for item in (listing.children or ()) if listing is not None else ():
        if item.tag == 0x08 and len(item.value) == 2 and item.value.hex().isdigit():
            number = int(item.value.hex())
            found.setdefault(number, OpenPreauth(number))
    return sorted(found.values(), key=lambda p: p.receipt_no)


def end_of_day_totals(done: Exchange, currency: str) -> EndOfDayTotals:
    """The 04 0F of End-of-Day (total, BMP 60 per brand), or why it was refused."""
    if not done.status_infos:
        code = done.abort.int_field("result_code") if done.abort else None
        return EndOfDayTotals(
            PaymentOutcome.ERROR,
            0,
            currency,
            raw_result_code=code,
            receipt_from=done.abort.int_field("receipt_no") if done.abort else None,
        )
    info = done.status_infos[-1]
    code = info.int_field("result_code")
    totals = info.fields.get("totals")
    brands: tuple[BrandTotal, ...] = ()
    receipt_from = receipt_to = None
    if isinstance(totals, dict):
        receipt_from = _as_int(totals.get("receipt_from"))
        receipt_to = _as_int(totals.get("receipt_to"))
        raw_brands = totals.get("brands")
        if isinstance(raw_brands, list):
            brands = tuple(
                BrandTotal(str(b["brand"]), int(b["count"]), int(b["amount"]))
                for b in raw_brands
                if b["count"] or b["amount"]
            )
    return EndOfDayTotals(
        classify(code).outcome if code is not None else PaymentOutcome.APPROVED,
        info.int_field("amount") or 0,
        currency,
        brands,
        receipt_from,
        receipt_to,
        info.int_field("trace_no"),
        code,
    )
