"""The station API (/api/v1): payment links with long-poll, session and payment reports,
terminal totals, reconciliation. Every call names its station by a bearer key and sees only
that station's records; another station's record answers 404, like one that does not exist."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import (
    books,
    card_refunds,
    idempotency,
    ingest,
    ingest_batch,
    jsonutil,
    links,
    reconcile_output,
    report_handlers,
)
from backend.auth import bearer_token, split_key
from backend.models import ChargingSession, PaymentLink
from backend.pricing import TariffError, check_tariff
from backend.schemas import (
    EARLIEST,
    LATEST,
    CardRefundReport,
    LinkOut,
    PaymentLinkCreate,
    PaymentReport,
    ReportAck,
    SessionAck,
    SessionReport,
    TerminalTotalsReport,
    errors,
)
from backend.services import UNAUTHORIZED, Services, authenticate, services


class ExactJSONRequest(Request):
    """A request whose JSON body is parsed once, with fractional numbers as Decimal: the
    body model is validated from it and handlers read the exact values (tariff snapshots)
    from the same parse."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = jsonutil.loads(body)
            except json.JSONDecodeError:
                raise
            except ValueError as exc:  # NaN or Infinity: answered 422 like any bad JSON
                text = body.decode("utf-8", "replace")
                raise json.JSONDecodeError(str(exc), text, 0) from None
        return self._json


class ExactJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact_json_handler(request: Request) -> Response:
            return await handler(ExactJSONRequest(request.scope, request.receive))

        return exact_json_handler


T = TypeVar("T")

router = APIRouter(prefix="/api/v1", tags=["station"], route_class=ExactJSONRoute)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=255, description="same key, same answer"),
]


bearer = HTTPBearer(auto_error=False, description="the station's API key")


async def station_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    header = f"Bearer {credentials.credentials}" if credentials else None
    return await run_in_threadpool(authenticate, services(request), header)


Station = Annotated[str, Depends(station_id)]


async def exact_body(request: Request) -> dict[str, Any]:
    """The body with fractional numbers as Decimal (parsed once, see ExactJSONRequest;
    pydantic already validated it)."""
    data = await request.json()
    assert isinstance(data, dict)
    return data


# --------------------------------------------------------------------------- payment links


@router.post(
    "/payment-links",
    status_code=201,
    summary="create a payment link",
    response_model=LinkOut,
    responses=errors(401, 413, 422),
)
async def create_payment_link(
    request: Request,
    body: PaymentLinkCreate,
    station: Station,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    svc = services(request)
    exact = await exact_body(request)
    try:  # in a worker thread: however long a tariff takes, the event loop keeps serving
        await run_in_threadpool(check_tariff, exact["tariff"], body.currency)
    except TariffError as exc:
        raise report_handlers.tariff_error(exc) from None
    raw = await request.body()

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        new = links.NewLink(
            station_id=station,
            connector_id=body.connector_id,
            amount_minor=body.amount,
            currency=body.currency,
            tariff=exact["tariff"],
            time_zone=body.time_zone,
        )
        link = links.create_link(s, svc.settings, new, svc.settings.now())
        return 201, links.link_json(svc.settings, link)

    return await run_in_threadpool(
        idempotency.run, svc, station, idempotency_key, "payment-links", raw, work=work
    )


def _read_link(svc: Services, station: str, link_id: str) -> dict[str, Any]:
    now = svc.settings.now()
    with svc.db.read() as s:  # long-polls read often: only an expiry needs to write
        link = s.get(PaymentLink, link_id)
        if link is None or link.station_id != station:
            raise HTTPException(404, detail="no such payment link")
        due = link.status == links.PENDING and now >= link.expires_at
        answer = links.link_json(svc.settings, link)
    if not due:
        return answer
    with svc.db.session() as s:
        link = s.get(PaymentLink, link_id)
        assert link is not None
        if links.expire_if_due(s, link, now):
            svc.changes.changed()
        return links.link_json(svc.settings, link)


LinkStatusName = Literal["pending", "authorized", "expired", "cancelled", "captured", "released"]


@router.get(
    "/payment-links/{link_id}",
    summary="read a link; long-poll with ?wait=",
    response_model=LinkOut,
    responses=errors(401, 404, 422),
)
async def get_payment_link(
    request: Request,
    link_id: str,
    station: Station,
    wait: Annotated[float, Query(ge=0, le=600, description="seconds to wait for a change")] = 0,
    status: Annotated[
        LinkStatusName | None,
        Query(description="the status the caller knows; wait until it differs"),
    ] = None,
) -> dict[str, Any]:
    svc = services(request)
    current = await run_in_threadpool(_read_link, svc, station, link_id)
    known = status or current["status"]
    deadline = time.monotonic() + min(wait, svc.settings.max_wait_s)
    while current["status"] == known:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        # Sleep in the event loop (no thread, no DB connection held); re-check on any change,
        # and at least every few seconds for changes made by another process, or expiry.
        await svc.changes.wait(min(left, 2.0))
        current = await run_in_threadpool(_read_link, svc, station, link_id)
    return current


def _cancel_link(svc: Services, station: str, link_id: str) -> dict[str, Any]:
    now = svc.settings.now()
    with svc.db.session() as s:
        link = s.get(PaymentLink, link_id)
        if link is None or link.station_id != station:
            raise HTTPException(404, detail="no such payment link")
        links.expire_if_due(s, link, now)
        if link.status == links.PENDING and links.transition(
            s, link_id, links.PENDING, links.CANCELLED, now
        ):
            s.refresh(link)
        status = link.status
    if status == links.AUTHORIZED:
        with svc.db.read() as s:
            payment = links.link_payment(s, link_id)
            in_use = payment is not None and payment.session_pk is not None
        if in_use:
            raise HTTPException(409, detail="a session was reported with this link's hold")
        # Paid but the session never started: the driver gets the whole hold back.
        if not svc.settler.release_link(link_id, "cancelled by the station"):
            raise HTTPException(
                503,
                detail="the gateway did not release the hold; retry (the sweep retries too)",
                headers={"Retry-After": "30"},
            )
    elif status in (links.CAPTURED,):
        raise HTTPException(409, detail=f"the link is {status}; it cannot be cancelled")
    svc.changes.changed()
    return _read_link(svc, station, link_id)


@router.post(
    "/payment-links/{link_id}/cancel",
    summary="cancel a link, releasing any hold",
    response_model=LinkOut,
    responses=errors(401, 404, 409, 413, 503),
)
async def cancel_payment_link(request: Request, link_id: str, station: Station) -> dict[str, Any]:
    return await run_in_threadpool(_cancel_link, services(request), station, link_id)


# --------------------------------------------------------------------------- reports


def bearer_header(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The Authorization header of a well-formed station key (else 401 at once); whether the
    key is valid is checked in the report's own transaction."""
    header = f"Bearer {credentials.credentials}" if credentials else None
    token = bearer_token(header)
    if header is None or token is None or split_key(token) is None:
        raise UNAUTHORIZED
    return header


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@router.post(
    "/sessions",
    status_code=201,
    summary="report a completed session",
    response_model=SessionAck,
    responses=errors(401, 404, 413, 422, 503),
)
async def report_session(
    request: Request,
    body: SessionReport,
    credentials: Credentials,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    header = bearer_header(credentials)
    exact = await exact_body(request)
    caller = ingest.Caller(header, idempotency_key)  # hashed with its price
    return await report_handlers.answer_report(services(request), caller, body, exact)


@router.post(
    "/sessions:batch",
    summary="report many completed sessions (a backlog) at once",
    response_model=ingest_batch.BatchAck,
    responses=errors(401, 413, 422),
)
async def report_sessions(
    request: Request, body: ingest_batch.SessionBatch, credentials: Credentials
) -> JSONResponse:
    """Each record is stored and answered as `POST /sessions` would (idempotent on its
    session id); `results[i]` is the answer to `sessions[i]`."""
    header = bearer_header(credentials)
    exact = await exact_body(request)
    answer = await report_handlers.answer_batch(
        services(request), ingest.Caller(header), exact["sessions"]
    )
    return JSONResponse(answer)


def _session_json(svc: Services, station: str, session_id: str) -> dict[str, Any]:
    with svc.db.read() as s:
        row = s.scalar(
            select(ChargingSession).where(
                ChargingSession.station_id == station, ChargingSession.session_id == session_id
            )
        )
        if row is None:
            raise HTTPException(404, detail="no such session")
        return dict(row.response)


@router.get(
    "/sessions/{session_id}",
    summary="the answer given to a session report",
    response_model=SessionAck,
    responses=errors(401, 404, 422),
)
async def get_session(request: Request, session_id: str, station: Station) -> dict[str, Any]:
    return await run_in_threadpool(_session_json, services(request), station, session_id)


_Body = TypeVar("_Body")


async def _store_once(
    request: Request,
    station: str,
    idempotency_key: str | None,
    *,
    kind: str,
    store: Callable[[Any, Any, str, _Body], dict[str, Any]],
    body: _Body,
) -> JSONResponse:
    """A station's report stored once under its idempotency key (201), off the event loop; an
    ingest refusal answers with its status and the reason."""
    svc = services(request)
    raw = await request.body()

    def work(_s: Session) -> tuple[int, dict[str, Any]]:
        try:
            return 201, store(svc.db, svc.settings, station, body)
        except ingest.IngestError as exc:
            raise HTTPException(exc.status, detail=str(exc)) from None

    return await run_in_threadpool(
        idempotency.run, svc, station, idempotency_key, kind, raw, work=work
    )


@router.post(
    "/payments",
    status_code=201,
    summary="report a card payment outside a session",
    response_model=ReportAck,
    responses=errors(401, 404, 413, 422),
)
async def report_payment(
    request: Request,
    body: PaymentReport,
    station: Station,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _store_once(
        request, station, idempotency_key, kind="payments", store=ingest.store_payment, body=body
    )


@router.post(
    "/card-refunds",
    status_code=201,
    summary="report a card-present refund made at the station's terminal (ZVT 06 31)",
    response_model=ReportAck,
    responses=errors(401, 404, 413, 422),
)
async def report_card_refund(
    request: Request,
    body: CardRefundReport,
    station: Station,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _store_once(
        request,
        station,
        idempotency_key,
        kind="card-refunds",
        store=card_refunds.store_card_refund,
        body=body,
    )


@router.post(
    "/terminal-totals",
    status_code=201,
    summary="report a terminal's end-of-day totals",
    response_model=ReportAck,
    responses=errors(401, 413, 422),
)
async def report_terminal_totals(
    request: Request,
    body: TerminalTotalsReport,
    station: Station,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _store_once(
        request,
        station,
        idempotency_key,
        kind="terminal-totals",
        store=ingest.store_totals,
        body=body,
    )


# --------------------------------------------------------------------------- reconciliation


@router.get(
    "/reconciliation",
    summary="the books per station and day: sessions, costs, captures, totals, refunds, settlement",
    responses={
        **errors(401, 422),
        200: {
            "description": "the report as JSON, CSV or HTML",
            "content": {"text/csv": {}, "text/html": {}},
        },
    },
)
async def get_reconciliation(  # noqa: PLR0917 (FastAPI reads each query parameter)
    request: Request,
    station: Station,
    date_from: Annotated[date, Query(alias="from")],
    date_to: Annotated[date, Query(alias="to")],
    format: Annotated[Literal["json", "csv", "html"], Query()] = "json",
    lang: Annotated[Literal["en", "de"], Query()] = "en",
) -> Response:
    svc = services(request)
    for name, day in (("from", date_from), ("to", date_to)):
        if not EARLIEST.date() <= day < LATEST.date():
            raise HTTPException(
                422, detail=f"'{name}' must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}"
            )
    if date_to < date_from:
        raise HTTPException(422, detail="'to' is before 'from'")
    if (date_to - date_from).days > 366:
        raise HTTPException(422, detail="at most 366 days per request")
    result = await run_in_threadpool(books.books, svc.db, svc.settings, date_from, date_to, station)
    if format == "csv":
        return PlainTextResponse(reconcile_output.to_csv(result, lang), media_type="text/csv")
    if format == "html":
        return HTMLResponse(reconcile_output.to_html(result, lang))
    return JSONResponse(reconcile_output.to_json(result, lang))
