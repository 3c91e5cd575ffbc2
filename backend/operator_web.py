"""The operator pages: sign-in, stations, the books day by day, discrepancies with notes, and
CSV export. Server-rendered, no scripts. A session's trail and refunds are in
operator_session_web, settlement imports in operator_imports_web, accounts in
operator_accounts_web; what they share in operator_page.

Every page needs a signed-in operator (server-side session, cookie limited to /ops,
SameSite=Strict); every form that changes something carries the session's CSRF token; roles
decide who may refund or resolve (operator, admin) and who may only look (viewer).
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Annotated

from fastapi import Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend import books, operator_views, operators
from backend.books_csv import books_csv
from backend.operator_page import (
    COOKIE,
    LOGIN_COOKIE,
    lang,
    message,
    ops_router,
    page,
    poster,
    secure,
    to_login,
    viewer,
)
from backend.operators import LoginRefused, SignedIn
from backend.services import Services, services

router = ops_router()

MAX_DAYS = 93


def _range(request: Request, svc: Services) -> tuple[date, date]:
    today = svc.settings.now().date()
    try:
        to = date.fromisoformat(request.query_params.get("to") or today.isoformat())
        frm = date.fromisoformat(
            request.query_params.get("from") or (to - timedelta(days=6)).isoformat()
        )
    except ValueError:
        raise ValueError("from/to: use dates as YYYY-MM-DD") from None
    if to < frm or (to - frm).days >= MAX_DAYS:
        raise ValueError(f"from/to: 'to' on or after 'from', at most {MAX_DAYS} days")
    return frm, to


# --------------------------------------------------------------------------- sign-in


def _login_page(request: Request, status_code: int = 200, error: str = "") -> Response:
    """The sign-in form with a fresh double-submit token (in the form and a cookie)."""
    token = secrets.token_urlsafe(24)
    context = {"error": error} if error else {}
    response = page(request, "ops_login.html", None, status_code, form_token=token, **context)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/ops",
        secure=secure(services(request)),
    )
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    form_token: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    svc = services(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, form_token):
        return message(request, None, 403, key="csrf")
    client = request.client.host if request.client else "?"
    try:
        token = await run_in_threadpool(
            operators.log_in, svc.db, svc.settings.now(), username, password, client
        )
    except LoginRefused as exc:
        key, code = ("throttled", 429) if exc.throttled else ("wrong_login", 401)
        return _login_page(request, code, error=key)
    response = RedirectResponse("/ops/days", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/ops",
        secure=secure(svc),
        max_age=int(operators.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/ops")
    return response


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    svc = services(request)
    user = await poster(request, csrf, "viewer")
    if isinstance(user, Response):
        return user
    token = request.cookies.get(COOKIE, "")
    await run_in_threadpool(operators.log_out, svc.db, token, svc.settings.now())
    response = to_login(request)
    response.delete_cookie(COOKIE, path="/ops")
    return response


# --------------------------------------------------------------------------- pages


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    return RedirectResponse("/ops/days", status_code=303)


@router.get("/stations", response_class=HTMLResponse)
async def stations_page(request: Request) -> Response:
    user = await viewer(request)
    if isinstance(user, Response):
        return user
    svc = services(request)
    rows = await run_in_threadpool(operator_views.stations, svc.db, svc.settings.now())
    return page(request, "ops_stations.html", user, rows=rows)


async def _books(request: Request, svc: Services) -> tuple[books.Books, str | None]:
    frm, to = _range(request, svc)
    station = request.query_params.get("station") or None
    result = await run_in_threadpool(books.books, svc.db, svc.settings, frm, to, station)
    return result, station


async def _books_page(request: Request) -> tuple[SignedIn, books.Books, str] | Response:
    """The viewer and the books of the range the page asks for, or the page that says why not."""
    user = await viewer(request)
    if isinstance(user, Response):
        return user
    try:
        result, station = await _books(request, services(request))
    except ValueError as exc:
        return message(request, user, 422, text=str(exc))
    return user, result, station or ""


@router.get("/days", response_class=HTMLResponse)
async def days_page(request: Request) -> Response:
    shown = await _books_page(request)
    if isinstance(shown, Response):
        return shown
    user, result, station = shown
    return page(request, "ops_days.html", user, books=result, station=station)


@router.get("/days/{day}", response_class=HTMLResponse)
async def day_page(request: Request, day: str) -> Response:
    user = await viewer(request)
    if isinstance(user, Response):
        return user
    svc = services(request)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return message(request, user, 422, text="day: use YYYY-MM-DD")
    station = request.query_params.get("station") or None
    result = await run_in_threadpool(books.books, svc.db, svc.settings, when, when, station)
    start, end = books.day_bounds(when)
    sessions = await run_in_threadpool(operator_views.sessions_of_day, svc.db, start, end, station)
    return page(
        request,
        "ops_day.html",
        user,
        books=result,
        day=when,
        station=station or "",
        sessions=sessions,
    )


@router.get("/findings", response_class=HTMLResponse)
async def findings_page(request: Request) -> Response:
    shown = await _books_page(request)
    if isinstance(shown, Response):
        return shown
    user, result, station = shown
    state = request.query_params.get("state", "open")
    found = [f for f in result.findings() if state == "all" or not f.resolved]
    return page(
        request,
        "ops_findings.html",
        user,
        books=result,
        findings=found,
        state=state,
        station=station,
    )


@router.post("/findings/resolve", response_class=HTMLResponse)
async def resolve(
    request: Request,
    *,
    key: Annotated[str, Form(max_length=64)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
    station: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    svc = services(request)
    user = await poster(request, csrf, "operator")
    if isinstance(user, Response):
        return user
    if not note.strip():
        return message(request, user, 422, key="note_required")
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return message(request, user, 422, text="day: use YYYY-MM-DD")
    result = await run_in_threadpool(books.books, svc.db, svc.settings, when, when, station)
    finding = next((f for f in result.findings() if f.key == key), None)
    if finding is None:
        return message(request, user, 404, text="key: no such finding")
    await run_in_threadpool(
        books.add_note, svc.db, svc.settings.now(), user.username, finding, note.strip()
    )
    return RedirectResponse(f"/ops/findings?from={day}&to={day}&state=all#f-{key}", status_code=303)


@router.get("/export.csv")
async def export_csv(request: Request) -> Response:
    user = await viewer(request)
    if isinstance(user, Response):
        return user
    svc = services(request)
    try:
        result, _station = await _books(request, svc)
    except ValueError as exc:
        return Response(str(exc), status_code=422, media_type="text/plain")
    name = f"books-{result.date_from}-{result.date_to}.csv"
    return Response(
        books_csv(result, lang(request, user)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
