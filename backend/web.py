"""Pages for people: the pay page a driver's phone opens, its status page, and receipts.

Server-rendered HTML with one stylesheet, no scripts: works on any phone browser. The one
exception is the Stripe path with a publishable key, where the pay page loads Stripe.js for
the wallet buttons (Apple Pay, Google Pay); without it the page works as before.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from backend import links, pages, phone_format, texts
from backend.gateways import CardDetails, CardFieldError, GatewayError
from backend.models import PaymentLink, Station
from backend.pricing import TariffError, display_lines
from backend.receipts import receipt_id_for_kiosk_link, receipt_id_of, receipt_view
from backend.services import Services, services

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(env=pages.env)

# Declined attempts one link accepts before it refuses more cards.
MAX_DECLINES = 5


def _lang(request: Request) -> str:
    return texts.language(
        request.headers.get("accept-language", ""), request.query_params.get("lang")
    )


# What Stripe.js needs for the wallet buttons (its script, its frames, its API), and no more.
WALLET_CSP = (
    "; script-src 'self' https://js.stripe.com"
    "; frame-src https://js.stripe.com https://hooks.stripe.com"
    "; connect-src 'self' https://api.stripe.com"
)


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    svc = services(request)
    lang = _lang(request)
    context.setdefault("operator", svc.settings.operator_name)
    context.update(lang=lang, t=texts.TEXTS[lang], tl=partial(texts.receipt_label, lang))
    # No scripts but Stripe.js with the wallet; forms post only here (and, for Stripe, on to
    # its hosted checkout).
    form_action = "'self'" + (" https://checkout.stripe.com" if svc.stripe else "")
    headers = {
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; img-src 'self'; "
            f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
            + (WALLET_CSP if context.get("wallet") else "")
        ),
        "Referrer-Policy": "no-referrer",
    }
    return templates.TemplateResponse(request, name, context, status_code, headers)


def _message_page(request: Request, key: str, status_code: int, status: str) -> Response:
    heading, message = texts.heading_and_message(_lang(request), key)
    return _page(
        request, "status.html", status_code, heading=heading, message=message, status=status
    )


def _status_page(request: Request, link: PaymentLink, status_code: int = 200) -> Response:
    return _message_page(request, link.status, status_code, link.status)


def _not_found(request: Request) -> Response:
    return _message_page(request, "not_found", 404, "not_found")


def _load(svc: Services, link_id: str) -> PaymentLink | None:
    with svc.db.session() as s:
        link = s.get(PaymentLink, link_id)
        if link is not None and links.expire_if_due(s, link, svc.settings.now()):
            svc.changes.changed()
        return link


def station_display_name(svc: Services, station_id: str) -> str:
    """The name the operator gave the station (add-station --name), else its id."""
    with svc.db.session() as s:
        station = s.get(Station, station_id)
        return station.name if station is not None and station.name else station_id


async def _pay_form(
    request: Request, link: PaymentLink, error: str = "", field: str = "", status_code: int = 200
) -> Response:
    svc = services(request)
    lang = _lang(request)
    station_name = await run_in_threadpool(station_display_name, svc, link.station_id)
    try:
        prices = display_lines(link.tariff, lang, svc.settings.now(), link.time_zone)
    except (TariffError, ValueError):  # stored tariffs were checked on the way in
        prices = None
    return _page(
        request,
        "pay.html",
        status_code,
        link=link,
        station=station_name,
        prices=prices,
        hold=phone_format.money_minor(link.amount_minor, link.currency, lang),
        expires_local=phone_format.local_time(link.expires_at, link.time_zone, lang),
        gateway=svc.settings.gateway,
        wallet=_wallet(svc, link, station_name),
        error=error,
        error_field=field,
    )


def _wallet(svc: Services, link: PaymentLink, station_name: str) -> dict[str, str] | None:
    """What Stripe's Payment Request needs to offer Apple Pay or Google Pay for this link's
    hold; None off the Stripe path or without a publishable key."""
    key = svc.settings.stripe_publishable_key
    if svc.stripe is None or not key:
        return None
    return {
        "key": key,
        "country": str(link.tariff.get("country_code") or "DE"),  # the operator's country
        "currency": link.currency.lower(),
        "amount": str(link.amount_minor),  # the hold, in minor units, as Stripe counts
        "label": f"{svc.settings.operator_name} – {station_name}",
    }


@router.get("/pay/{link_id}", response_class=HTMLResponse)
async def pay_page(request: Request, link_id: str) -> Response:
    svc = services(request)
    link = await run_in_threadpool(_load, svc, link_id)
    if link is None:
        return _not_found(request)
    if link.status != links.PENDING:
        return _status_page(request, link)
    return await _pay_form(request, link)


@dataclass(frozen=True)
class Attempt:
    """How a card attempt ended: paid, declined, invalid, blocked, gone or error."""

    outcome: str
    code: str = ""  # decline code, or the text key of the outcome
    field: str = ""  # invalid: the form field, and what is wrong with it
    problem: str = ""


def _pay(svc: Services, link_id: str, card: CardDetails) -> Attempt:
    sandbox = svc.sandbox
    assert sandbox is not None
    link = _load(svc, link_id)
    if link is None or link.status != links.PENDING:
        return Attempt("gone")
    if link.declines >= MAX_DECLINES:
        # Stops a link from being used to test stolen card numbers one after another.
        return Attempt("blocked", "too_many_declines")
    try:
        # One key per attempt: a double tap makes two holds, and the loser below releases its own.
        attempt = f"auth:{link_id}:{secrets.token_hex(8)}"
        auth = sandbox.authorize(card, link.amount_minor, link.currency, attempt)
    except CardFieldError as exc:
        return Attempt("invalid", field=exc.field, problem=exc.message)
    except GatewayError:
        return Attempt("error", "processing_error")
    if not auth.approved:
        with svc.db.session() as s:
            links.record_decline(s, link_id, auth.decline_code)
        svc.changes.changed()
        return Attempt("declined", auth.decline_code)
    assert auth.reference is not None
    with svc.db.session() as s:
        fresh = s.get(PaymentLink, link_id)
        assert fresh is not None
        won = links.authorize_link(
            s,
            fresh,
            auth.reference,
            masked_pan=auth.masked_pan,
            brand=auth.brand,
            now=svc.settings.now(),
        )
    if not won:
        # Paid meanwhile (double tap) or expired while the card was checked: give it back.
        with contextlib.suppress(GatewayError):  # released by its own expiry otherwise
            sandbox.release(auth.reference, f"release-race:{link_id}")
        return Attempt("gone")
    svc.changes.changed()
    return Attempt("paid")


@router.post("/pay/{link_id}", response_class=HTMLResponse)
async def pay_submit(
    request: Request,
    link_id: str,
    card_number: Annotated[str, Form(max_length=32)] = "",
    expiry: Annotated[str, Form(max_length=8)] = "",
    cvc: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    svc = services(request)
    if svc.sandbox is None:  # the card form exists only with the sandbox gateway
        return _not_found(request)
    card = CardDetails(card_number, expiry, cvc)
    attempt = await run_in_threadpool(_pay, svc, link_id, card)
    if attempt.outcome == "paid":
        return RedirectResponse(f"/pay/{link_id}/status?lang={_lang(request)}", status_code=303)
    link = await run_in_threadpool(_load, svc, link_id)
    if link is None:
        return _not_found(request)
    if attempt.outcome == "gone":
        return _status_page(request, link, 409)
    lang = _lang(request)
    if attempt.outcome == "invalid":
        message = texts.field_error(lang, attempt.field, attempt.problem)
    else:
        message = texts.decline_text(lang, attempt.code)
    status = {"invalid": 422, "declined": 402, "error": 502, "blocked": 429}[attempt.outcome]
    return await _pay_form(request, link, message, attempt.field, status)


@router.get("/pay/{link_id}/status", response_class=HTMLResponse)
async def pay_status(request: Request, link_id: str) -> Response:
    link = await run_in_threadpool(_load, services(request), link_id)
    if link is None:
        return _not_found(request)
    if link.status == links.PENDING:
        if request.query_params.get("wallet") == "1":
            # The wallet approved and Stripe's webhook is on its way: wait here (the page
            # reloads itself) rather than offer the pay page again.
            heading, message = texts.heading_and_message(_lang(request), "confirming")
            return _page(
                request,
                "status.html",
                heading=heading,
                message=message,
                status="pending",
                refresh=2,
            )
        return RedirectResponse(f"/pay/{link_id}?lang={_lang(request)}", status_code=303)
    return _status_page(request, link)


def _checkout(svc: Services, link_id: str, return_url: str) -> str | None:
    stripe = svc.stripe
    assert stripe is not None
    link = _load(svc, link_id)
    if link is None or link.status != links.PENDING:
        return None
    checkout = stripe.create_checkout(
        link.id,
        amount_minor=link.amount_minor,
        currency=link.currency,
        description=f"Charging at {link.station_id}, connector {link.connector_id}",
        return_url=return_url,
        expires_at=link.expires_at,
        now=svc.settings.now(),
    )
    with svc.db.session() as s:
        row = s.get(PaymentLink, link_id)
        assert row is not None
        row.gateway_checkout = checkout.id
    return checkout.url


@router.post("/pay/{link_id}/checkout")
async def pay_checkout(request: Request, link_id: str) -> Response:
    svc = services(request)
    if svc.stripe is None:
        return _not_found(request)
    lang = _lang(request)
    return_url = f"{svc.settings.public_url.rstrip('/')}/pay/{link_id}/status?lang={lang}"
    try:
        url = await run_in_threadpool(_checkout, svc, link_id, return_url)
    except GatewayError:
        return _message_page(request, "unavailable", 502, "error")
    if url is None:
        link = await run_in_threadpool(_load, svc, link_id)
        return _status_page(request, link, 409) if link else _not_found(request)
    return RedirectResponse(url, status_code=303)


def _wallet_intent(svc: Services, link_id: str) -> str | None:
    stripe = svc.stripe
    assert stripe is not None
    link = _load(svc, link_id)
    if link is None or link.status != links.PENDING:
        return None
    _intent, secret = stripe.create_wallet_intent(
        link.id,
        amount_minor=link.amount_minor,
        currency=link.currency,
        description=f"Charging at {link.station_id}, connector {link.connector_id}",
    )
    return secret


@router.post("/pay/{link_id}/wallet")
async def pay_wallet(request: Request, link_id: str) -> Response:
    """The client secret of the link's wallet PaymentIntent, for Stripe.js to confirm with the
    wallet's card; the hold is recorded when Stripe's webhook says the amount is held."""
    svc = services(request)
    headers = {"Cache-Control": "no-store"}
    if svc.stripe is None or not svc.settings.stripe_publishable_key:
        return JSONResponse({"error": "no wallet payments here"}, 404, headers)
    try:
        secret = await run_in_threadpool(_wallet_intent, svc, link_id)
    except GatewayError:
        return JSONResponse({"error": "the payment could not be started"}, 502, headers)
    if secret is None:
        return JSONResponse({"error": "this link cannot be paid"}, 409, headers)
    return JSONResponse({"client_secret": secret}, 200, headers)


# --------------------------------------------------------------------------- receipts


@router.get("/r/{token}", response_class=HTMLResponse)
async def receipt(request: Request, token: str) -> Response:
    svc = services(request)
    receipt_id = receipt_id_of(svc.receipt_secret, token)
    return await _receipt_page(request, receipt_id, "receipt_missing")


@router.get("/r/k/{session_id}/{sig}", response_class=HTMLResponse)
async def kiosk_receipt(request: Request, session_id: str, sig: str) -> Response:
    """The address a kiosk shows before its report is delivered (kiosk.outbox.receipt)."""
    svc = services(request)
    receipt_id = await run_in_threadpool(receipt_id_for_kiosk_link, svc.db, session_id, sig)
    return await _receipt_page(request, receipt_id, "receipt_pending")


async def _receipt_page(request: Request, receipt_id: str | None, missing: str) -> Response:
    """The receipt, or the page `missing` (a text key) when there is none (yet)."""
    svc = services(request)
    data = (
        await run_in_threadpool(receipt_view, svc.db, receipt_id, _lang(request))
        if receipt_id
        else None
    )
    if data is None:
        return _message_page(request, missing, 404, "not_found")
    return _page(request, "receipt.html", r=data)
