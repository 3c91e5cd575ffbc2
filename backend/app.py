"""The FastAPI application: routes, body limits, error shapes, and the background sweep."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import (
    api,
    metrics,
    operator_accounts_web,
    operator_imports_web,
    operator_session_web,
    operator_web,
    pages,
    report_lane,
    web,
    webhooks,
)
from backend.config import Settings, settings_from_env
from backend.services import Services, build_services

log = logging.getLogger(__name__)


class BodyLimit:
    """Refuse bodies above `limit` bytes with 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await self._refuse(send)
                return
        seen = 0
        too_large = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal seen, too_large
            if too_large:  # stop reading: the app gets an empty end of body
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def checked_send(message: Message) -> None:
            # Whatever the app made of a truncated body, the client is told it was too large.
            nonlocal replaced
            if too_large:
                if not replaced:
                    replaced = True
                    await self._refuse(send)
                return
            await send(message)

        await self.app(scope, limited_receive, checked_send)

    async def _refuse(self, send: Send) -> None:
        body = f'{{"detail":"request body larger than {self.limit} bytes"}}'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _sweep_forever(svc: Services) -> None:
    while True:
        try:
            done = await run_in_threadpool(svc.settler.sweep)
            if any(done.values()):
                log.info("sweep: %s", done)
        except Exception:  # the sweep must outlive one bad round (database restart, gateway)
            log.exception("sweep failed; retrying next round")
        await asyncio.sleep(svc.settings.sweep_interval_s)


def create_app(settings: Settings, svc: Services | None = None) -> FastAPI:
    svc = svc or build_services(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        svc.changes.bind(asyncio.get_running_loop())
        if svc.db.engine.dialect.name == "postgresql":
            from backend.ingest_async import AsyncIngest  # noqa: PLC0415 (PostgreSQL only)

            svc.fast_ingest = AsyncIngest(svc.db.engine)
            await svc.fast_ingest.open()
        sweeper = (
            asyncio.create_task(_sweep_forever(svc)) if settings.sweep_interval_s > 0 else None
        )
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            if svc.fast_ingest is not None:
                fast, svc.fast_ingest = svc.fast_ingest, None
                await fast.close()

    app = FastAPI(
        title="evkiosk operator backend",
        version="1",
        summary="Payment links and pay page, session ingest, receipts, reconciliation.",
        lifespan=lifespan,
        # Metrics are Prometheus' (/metrics); FastAPI's OpenTelemetry bridge, unused, looked up
        # the global providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = svc
    app.include_router(api.router)
    app.include_router(web.router)
    app.include_router(operator_web.router)
    app.include_router(operator_session_web.router)
    app.include_router(operator_imports_web.router)
    app.include_router(operator_accounts_web.router)
    app.include_router(webhooks.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # The default handler echoes the input back; a body may hold a card number or a key.
        errors: list[dict[str, Any]] = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(report_lane.ReportLane)  # inside the body limit and the metrics
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    metrics.install(app, svc)  # outermost: refused bodies (413) are counted too
    return app


# Container objects allocated (net) before the youngest generation is collected; Python's
# default is 700. A batch of 100 reports parses into tens of thousands of dicts and lists that
# stay alive until it is answered: at 700 the collector ran every few reports and its older
# generations walked the whole batch again each time (11 % of the ingest's CPU, 4 times the
# time to parse the batch's JSON). Nearly all of a request's objects are freed by reference
# counting; only cyclic garbage waits longer to be collected.
GC_YOUNG_THRESHOLD = 50_000


def freeze_startup_objects() -> None:
    """Called once the app is built, before serving: the modules, routes, schemas and tables
    made so far live as long as the process, so they are moved out of the garbage collector's
    view; its full collections, triggered by the objects every request makes, otherwise walk
    them all again. Requests' objects are collected less often (GC_YOUNG_THRESHOLD)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def app_from_env() -> FastAPI:
    """The app of one worker process of `evkiosk backend serve --workers N`."""
    app = create_app(settings_from_env())
    freeze_startup_objects()
    return app
