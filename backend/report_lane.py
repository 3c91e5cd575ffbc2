"""Session reports (`POST /api/v1/sessions` and `/sessions:batch`) served without FastAPI's
per-request machinery: the ingest's hot path.

Routing through the included routers, solving the route's dependencies and validating its body
through FastAPI's field layer cost more CPU per report than the report's own transaction. This
middleware takes a report whose body is JSON that its pydantic model accepts and which carries a
well-formed station key; it validates the body once with that model and stores it with the same
function the route's endpoint calls (`backend.api`). Anything else (no or bad JSON, a field the
model refuses, a missing or malformed key, an over-long Idempotency-Key, another content type)
goes on, body and all, to the FastAPI route, which answers it as before: a 4xx naming the
field, as the OpenAPI schema (generated from those routes) says.
"""

from __future__ import annotations

from typing import cast

from fastapi import HTTPException
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import api, auth, ingest, ingest_batch, jsonutil, report_handlers
from backend.schemas import SessionReport
from backend.services import Services

SESSIONS = "/api/v1/sessions"
BATCH = "/api/v1/sessions:batch"
MAX_IDEMPOTENCY_KEY = 255  # as the route's Idempotency-Key header declares


def _route(path: str) -> APIRoute:
    """The FastAPI route of `path` (its template labels the request in the metrics)."""
    return next(r for r in api.router.routes if isinstance(r, APIRoute) and r.path == path)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root + "/") else path


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of a header, as Starlette reads it."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI reads the body as JSON (application/json or application/*+json)."""
    if content_type is None:
        return False
    main, _, sub = content_type.split(";", 1)[0].strip().lower().partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


async def _read_body(receive: Receive) -> tuple[bytes | None, list[Message]]:
    """The request's body (None if the client left first) and the messages it came in."""
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body, messages


class ReportLane:
    """ASGI middleware: well-formed session reports stored without the FastAPI route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = {SESSIONS: _route(SESSIONS), BATCH: _route(BATCH)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = None
        if scope["type"] == "http" and scope["method"] == "POST":
            route = self.routes.get(_route_path(scope))
        if route is None:
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive)
        response = None if body is None else await self._answer(scope, route, body)
        if response is None:  # the route answers, reading the same messages
            pending = iter(messages)

            async def replay() -> Message:
                message = next(pending, None)
                return message if message is not None else await receive()

            await self.app(scope, replay, send)
            return
        scope["route"] = route
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, route: APIRoute, body: bytes) -> Response | None:
        """The answer to a well-formed report, or None for the route to answer."""
        authorization = _header(scope, b"authorization")
        key = _header(scope, b"idempotency-key")
        if (
            not body
            or not _is_json(_header(scope, b"content-type"))
            or auth.key_parts(authorization) is None
            or (key is not None and len(key) > MAX_IDEMPOTENCY_KEY)
        ):
            return None
        try:
            exact = jsonutil.loads(body)
        except Exception:  # bad JSON, NaN, nested too deep: the route's answer says which
            return None
        if not isinstance(exact, dict):
            return None
        svc = cast(Services, scope["app"].state.services)
        try:
            if route.path == SESSIONS:
                report = SessionReport.model_validate(exact)
                # The request's hash, for the key's answer, comes with its price (hashed).
                caller = ingest.Caller(authorization, key)
                return await report_handlers.answer_report(svc, caller, report, exact)
            ingest_batch.SessionBatch.model_validate(exact)
            answer = await report_handlers.answer_batch(
                svc, ingest.Caller(authorization), exact["sessions"]
            )
            return JSONResponse(answer)
        except ValidationError:
            return None
        except HTTPException as exc:  # as FastAPI's handler answers it
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
