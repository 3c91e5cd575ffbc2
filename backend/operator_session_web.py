"""The operator's page for one session (/ops/sessions/N): its trail from start to report, the
findings that touch it, and the refund form (operators and admins)."""

from __future__ import annotations

import secrets
from functools import partial
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend import books, operator_views, refunds, session_trail
from backend.operator_page import lang, message, ops_router, page, poster, viewer
from backend.operators import SignedIn
from backend.services import Services, services
from kiosk.money import Money

router = ops_router()


@router.get("/sessions/{session_pk}", response_class=HTMLResponse)
async def session_page(request: Request, session_pk: int) -> Response:
    user = await viewer(request)
    if isinstance(user, Response):
        return user
    return await _session_page(request, user, session_pk)


async def _session_page(
    request: Request, user: SignedIn, session_pk: int, status_code: int = 200, **extra: Any
) -> Response:
    svc = services(request)
    data = await run_in_threadpool(operator_views.trail, svc.db, session_pk)
    if data is None:
        return message(request, user, 404, key="no_rows")
    payment, left = await run_in_threadpool(refunds.refundable, svc, session_pk)
    timeline = await run_in_threadpool(_timeline, svc, data, lang(request, user))
    return page(
        request,
        "ops_session.html",
        user,
        status_code,
        trail=data,
        timeline=timeline,
        refundable=left,
        refund_payment=payment,
        refundable_text=str(Money.from_minor(left, payment.currency).amount) if payment else "",
        request_key=secrets.token_urlsafe(24),
        **extra,
    )


def _timeline(svc: Services, trail: dict[str, Any], lang: str) -> list[session_trail.Event]:
    s = trail["session"]
    day = s.ended_at.date()
    found = books.books(svc.db, svc.settings, day, day, s.station_id).findings()
    mine = session_trail.session_findings(found, s.pk)
    return session_trail.events(svc.db, trail, mine, lang)


@router.post("/sessions/{session_pk}/refund", response_class=HTMLResponse)
async def refund(
    request: Request,
    session_pk: int,
    *,
    amount: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    request_key: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    svc = services(request)
    user = await poster(request, csrf, "operator")
    if isinstance(user, Response):
        return user
    payment, _left = await run_in_threadpool(refunds.refundable, svc, session_pk)
    try:
        if payment is None:
            raise refunds.RefundError("session", "nothing was captured for this session")
        minor = refunds.parse_amount(amount, payment.currency)
        result = await run_in_threadpool(
            partial(
                refunds.refund_session,
                svc,
                session_pk,
                minor,
                reason=reason,
                actor=user.username,
                request_key=request_key,
            )
        )
    except refunds.RefundError as exc:
        return await _session_page(
            request, user, session_pk, 422, refund_error=f"{exc.field}: {exc.message}"
        )
    if result.status == "pending" and result.failure:
        return await _session_page(request, user, session_pk, 502, refund_error=result.failure)
    return RedirectResponse(f"/ops/sessions/{session_pk}?done=refund", status_code=303)
