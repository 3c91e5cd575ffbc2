"""Session reports answered: the work behind `POST /sessions` and `/sessions:batch`, shared by
their FastAPI routes and the ingest's lane past FastAPI (`backend.report_lane`).

A card or unpaid report on PostgreSQL is priced and stored on the event loop, through psycopg's
async API (`backend.ingest_async`), while the app's lifespan runs. Every other report (SQLite, a
QR-link session, signed meter records, a repeat waiting for its first answer) and every batch
runs in an ingest thread, as blocking database work must.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import HTTPException
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from backend import idempotency, ingest, ingest_batch, ingest_plain, jsonutil
from backend.pricing import Computed, TariffError, recompute
from backend.schemas import LinkPayment, SessionReport
from backend.services import UNAUTHORIZED, Services

T = TypeVar("T")

# Blocking reports run in their own threads: a plain executor hop costs a fraction of anyio's
# (no capacity limiter, no async-library detection per call). A dozen threads keep a database
# across a network busy; each turn at the GIL costs CPU, so reports that can wait for the
# database on the event loop do (see the module's doc). Fewer than the database pool's size,
# so no report opens a connection of its own.
INGEST_THREADS = 12
_INGEST_THREADS = ThreadPoolExecutor(max_workers=INGEST_THREADS, thread_name_prefix="ingest")


async def in_ingest_thread(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_INGEST_THREADS, fn, *args)


def tariff_error(exc: TariffError, prefix: tuple[str, ...] = ("body", "tariff")) -> HTTPException:
    loc = [
        *prefix,
        *[p for p in getattr(exc, "field", "").replace("[", ".").replace("]", "").split(".") if p],
    ]
    return HTTPException(422, detail=[{"loc": loc, "msg": str(exc), "type": "value_error"}])


def _session_problem(exc: Exception) -> HTTPException:
    """The HTTP answer to a report the ingest refused."""
    if isinstance(exc, ingest.Unauthorized):
        return UNAUTHORIZED
    if isinstance(exc, ingest.KeyReused):
        return HTTPException(
            422, detail="Idempotency-Key was already used with a different request"
        )
    if isinstance(exc, ingest.InProgress):
        # 503, not 409: the request is right, only not answerable yet; clients retry 5xx.
        return HTTPException(
            503,
            detail="the first report of this session is still being settled; retry",
            headers={"Retry-After": "5"},
        )
    assert isinstance(exc, ingest.IngestError)
    return HTTPException(
        exc.status,
        detail=[{"loc": ["body", *exc.field.split(".")], "msg": str(exc), "type": "value_error"}],
    )


def recompute_report(report: SessionReport, exact: dict[str, Any]) -> Computed:
    """The engine's cost of a report; HTTPException 422 naming the field when it cannot."""
    try:
        return recompute(
            exact["tariff"],
            currency=report.currency,
            start=report.start_date_time,
            end=report.end_date_time,
            meter_start_wh=report.meter_start_wh,
            meter_end_wh=report.meter_end_wh,
            charging_periods=exact.get("charging_periods"),
            time_zone=report.time_zone,
        )
    except TariffError as exc:
        source = str(exc).split(":", 1)[0]
        prefix = {"tariff": ("body", "tariff"), "cdr": ("body",)}.get(source, ("body",))
        raise tariff_error(exc, prefix) from None


def hashed(caller: ingest.Caller, exact: dict[str, Any], computed: Computed) -> ingest.Caller:
    """The caller with its request's hash, which an Idempotency-Key's answer is stored with:
    of the body's JSON as `jsonutil.dumps` writes it. The tariff goes in as the snapshot's text
    (the same text, written once per snapshot, not per report)."""
    if caller.key is None:
        return caller
    text = jsonutil.dumps({**exact, "tariff": computed.tariff_json})
    return dataclasses.replace(caller, request_hash=idempotency.digest(text.encode()))


def store_report(
    svc: Services, caller: ingest.Caller, report: SessionReport, exact: dict[str, Any]
) -> JSONResponse:
    # One thread hop: key check, idempotency and store together (see ingest_plain).
    computed = recompute_report(report, exact)
    caller = hashed(caller, exact, computed)
    try:
        stored_session = ingest_plain.store_session(
            svc.db,
            svc.settings,
            svc.settler,
            caller,
            report=report,
            exact=exact,
            computed=computed,
            receipt_url=svc.receipt_url,
        )
    except (ingest.Unauthorized, ingest.KeyReused, ingest.InProgress, ingest.IngestError) as exc:
        raise _session_problem(exc) from None
    return _answer(stored_session)


def _answer(stored: ingest.Stored) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)


async def answer_report(
    svc: Services, caller: ingest.Caller, report: SessionReport, exact: dict[str, Any]
) -> JSONResponse:
    """The answer to one session report, from the event loop where it can wait there."""
    fast = svc.fast_ingest
    if fast is None or isinstance(report.payment, LinkPayment) or report.ocmf:
        return await in_ingest_thread(store_report, svc, caller, report, exact)
    computed = recompute_report(report, exact)
    caller = hashed(caller, exact, computed)
    try:
        try:
            stored = await fast.store_session(
                caller,
                report=report,
                exact=exact,
                computed=computed,
                receipt_url=svc.receipt_url,
                now=svc.settings.now(),
            )
        except ingest_plain.Repeat as repeat:
            first = (svc.db, repeat.station_id, report.session_id, repeat.response)
            # Stored with its answer: replayed at once. A first report still being answered
            # is waited for, which blocks: in a thread.
            stored = (
                ingest.first_answer(*first)
                if repeat.response
                else await in_ingest_thread(ingest.first_answer, *first)
            )
    except (ingest.Unauthorized, ingest.KeyReused, ingest.InProgress) as exc:
        raise _session_problem(exc) from None
    return _answer(stored)


def price_records(
    items: list[Any], indices: range
) -> tuple[dict[int, ingest_batch.Record], dict[int, ingest_batch.Result]]:
    """Batch records validated and priced: (records by index, refusals by index)."""
    records: dict[int, ingest_batch.Record] = {}
    refusals: dict[int, ingest_batch.Result] = {}
    for i in indices:
        item = items[i]
        sid = item.get("session_id") if isinstance(item, dict) else None
        sid = sid if isinstance(sid, str) else None
        try:
            report = SessionReport.model_validate(item)
            computed = recompute_report(report, item)
        except ValidationError as exc:
            # Never the input: a refused record may hold a card number or a key.
            found = exc.errors(include_url=False, include_context=False, include_input=False)
            detail = jsonable_encoder(found)
            for err in detail:
                err["loc"] = ["body", *err["loc"]]
            refusals[i] = ingest_batch.refused(sid, 422, detail)
            continue
        except HTTPException as exc:
            refusals[i] = ingest_batch.refused(sid, exc.status_code, exc.detail)
            continue
        records[i] = ingest_batch.Record(report, item, computed)
    return records, refusals


def store_reports(
    svc: Services, caller: ingest.Caller, items: list[Any]
) -> dict[str, list[dict[str, Any]]]:
    records, results = price_records(items, range(len(items)))
    try:
        results.update(
            ingest_batch.store_batch(
                svc.db, svc.settings, svc.settler, caller, records, receipt_url=svc.receipt_url
            )
        )
    except ingest.Unauthorized:
        raise UNAUTHORIZED from None
    return {"results": [results[i] for i in range(len(items))]}


# Records priced between two turns of the event loop: a batch does not hold up the other
# requests for more than a few milliseconds at a time.
PRICED_PER_TURN = 20


async def answer_batch(
    svc: Services, caller: ingest.Caller, items: list[Any]
) -> dict[str, list[dict[str, Any]]]:
    """The answers to a batch of session reports, from the event loop where it can wait."""
    fast = svc.fast_ingest
    if fast is None:
        return await in_ingest_thread(store_reports, svc, caller, items)
    records: dict[int, ingest_batch.Record] = {}
    results: dict[int, ingest_batch.Result] = {}
    for lo in range(0, len(items), PRICED_PER_TURN):
        if lo:
            await asyncio.sleep(0)
        priced, refused = price_records(items, range(lo, min(lo + PRICED_PER_TURN, len(items))))
        records.update(priced)
        results.update(refused)
    try:
        stored, rest = await fast.store_batch(
            caller, records, receipt_url=svc.receipt_url, now=svc.settings.now()
        )
        if rest:  # QR and signed sessions, races, unanswered firsts: one by one, blocking
            each = functools.partial(ingest_batch.store_each, receipt_url=svc.receipt_url)
            stored.update(
                await in_ingest_thread(each, svc.db, svc.settings, svc.settler, caller, rest)
            )
    except ingest.Unauthorized:
        raise UNAUTHORIZED from None
    results.update(stored)
    return {"results": [results[i] for i in range(len(items))]}
