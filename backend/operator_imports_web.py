"""The operator's page for settlement imports (/ops/imports): an acquirer's settlement file, or
Stripe's balance transactions since a day. Operators and admins post here; every import of a
file is audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from backend import operators, settlement_import
from backend.gateways import GatewayError
from backend.operator_page import ops_router, page, poster, viewer
from backend.operators import SignedIn
from backend.services import services

router = ops_router()


@router.get("/imports", response_class=HTMLResponse)
async def imports_page(request: Request) -> Response:
    user = await viewer(request)
    if isinstance(user, Response):
        return user
    return _imports(request, user)


def _imports(request: Request, user: SignedIn, status_code: int = 200, **extra: Any) -> Response:
    svc = services(request)
    formats = {
        n: settlement_import.load_format(n)["title"] for n in settlement_import.format_names()
    }
    return page(
        request,
        "ops_imports.html",
        user,
        status_code,
        formats=formats,
        stripe=svc.stripe is not None,
        **extra,
    )


@router.post("/imports/file", response_class=HTMLResponse)
async def import_settlement_file(
    request: Request,
    *,
    acquirer: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    svc = services(request)
    user = await poster(request, csrf, "operator")
    if isinstance(user, Response):
        return user
    if file is None:
        return _imports(request, user, 422, import_error="file: choose a settlement file")
    data = await file.read(settlement_import.MAX_FILE_BYTES + 1)
    name = file.filename or "upload.csv"
    try:
        n = await run_in_threadpool(
            settlement_import.import_file, svc.db, acquirer, data, name, svc.settings.now()
        )
    except settlement_import.SettlementFileError as exc:
        return _imports(request, user, 422, import_error=f"{name}: {exc}")
    await run_in_threadpool(
        operators.audit,
        svc.db,
        svc.settings.now(),
        user.username,
        "settlement_imported",
        f"settlement:{acquirer}",
        file=name,
        new_records=n,
    )
    return _imports(request, user, imported=n)


@router.post("/imports/stripe", response_class=HTMLResponse)
async def import_from_stripe(
    request: Request,
    *,
    since: Annotated[str, Form(max_length=10)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    svc = services(request)
    user = await poster(request, csrf, "operator")
    if isinstance(user, Response):
        return user
    stripe = svc.stripe
    if stripe is None:
        return _imports(request, user, 409, import_error="gateway: Stripe is not configured")
    try:
        start = datetime.combine(date.fromisoformat(since), time(0), UTC)
    except ValueError:
        return _imports(request, user, 422, import_error="since: use YYYY-MM-DD")
    try:
        n = await run_in_threadpool(
            settlement_import.import_stripe, svc.db, stripe, start, svc.settings.now()
        )
    except GatewayError as exc:
        return _imports(request, user, 502, import_error=str(exc))
    return _imports(request, user, imported=n)
