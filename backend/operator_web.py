"""The operator pages: sign-in, stations, the books day by day, a session's trail, refunds,
discrepancies with notes, and CSV export. Server-rendered, no scripts.

Every page needs a signed-in operator (server-side session, cookie limited to /ops,
SameSite=Strict); every form that changes something carries the session's CSRF token; roles
decide who may refund or resolve (operator, admin) and who may only look (viewer).
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from backend import (
    books,
    operator_views,
    operators,
    pages,
    phone_format,
    refunds,
    session_trail,
    settlement_import,
)
from backend.books_csv import books_csv
from backend.gateways import GatewayError
from backend.operator_texts import OPERATOR_LANGUAGES, OPS_TEXTS
from backend.operators import LoginRefused, SignedIn
from backend.services import Services, services
from kiosk.money import Money

router = APIRouter(prefix="/ops", include_in_schema=False)
templates = Jinja2Templates(env=pages.env)

COOKIE = "evk_ops"
LOGIN_COOKIE = "evk_ops_login"  # double-submit token of the sign-in form
MAX_DAYS = 93


class Refused(Exception):
    def __init__(self, status_code: int, key: str) -> None:
        super().__init__(key)
        self.status_code = status_code
        self.key = key


def _lang(request: Request, user: SignedIn | None) -> str:
    asked = request.query_params.get("lang")
    if asked in OPERATOR_LANGUAGES:
        return str(asked)
    if user is not None:
        return user.language
    first = request.headers.get("accept-language", "")[:2].lower()
    return first if first in OPERATOR_LANGUAGES else "en"


def _page(
    request: Request, name: str, user: SignedIn | None, status_code: int = 200, **context: Any
) -> Response:
    svc = services(request)
    lang = _lang(request, user)
    context.update(
        lang=lang,
        t=OPS_TEXTS[lang],
        user=user,
        operator=svc.settings.operator_name,
        money=partial(_money, lang=lang),
        classes=books.class_names(lang),
    )
    headers = {
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        ),
        "Referrer-Policy": "no-referrer",
    }
    return templates.TemplateResponse(request, name, context, status_code, headers)


def _money(minor: int | None, currency: str, lang: str) -> str:
    return "" if minor is None else phone_format.money_minor(minor, currency, lang)


def _secure(svc: Services) -> bool:
    return svc.settings.public_url.startswith("https://")


async def _user(request: Request) -> SignedIn | None:
    svc = services(request)
    token = request.cookies.get(COOKIE)
    return await run_in_threadpool(operators.signed_in, svc.db, token, svc.settings.now())


def _to_login(request: Request) -> Response:
    return RedirectResponse(f"/ops/login?lang={_lang(request, None)}", status_code=303)


def _check_post(user: SignedIn | None, csrf: str, role: str) -> SignedIn:
    if user is None:
        raise Refused(401, "sign_in")
    if not operators.csrf_matches(user, csrf):
        raise Refused(403, "csrf")
    if not user.may(role):
        raise Refused(403, "not_allowed")
    return user


def _refused(request: Request, user: SignedIn | None, exc: Refused) -> Response:
    if exc.status_code == 401:
        return _to_login(request)
    return _page(request, "ops_message.html", user, exc.status_code, message_key=exc.key)


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


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    token = secrets.token_urlsafe(24)
    response = _page(request, "ops_login.html", None, form_token=token)
    svc = services(request)
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/ops", secure=_secure(svc)
    )
    return response


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
        return _page(request, "ops_message.html", None, 403, message_key="csrf")
    client = request.client.host if request.client else "?"
    try:
        token = await run_in_threadpool(
            operators.log_in, svc.db, svc.settings.now(), username, password, client
        )
    except LoginRefused as exc:
        key, code = ("throttled", 429) if exc.throttled else ("wrong_login", 401)
        again = secrets.token_urlsafe(24)
        response = _page(request, "ops_login.html", None, code, error=key, form_token=again)
        response.set_cookie(
            LOGIN_COOKIE, again, httponly=True, samesite="strict", path="/ops", secure=_secure(svc)
        )
        return response
    response = RedirectResponse("/ops/days", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/ops",
        secure=_secure(svc),
        max_age=int(operators.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/ops")
    return response


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    svc = services(request)
    user = await _user(request)
    try:
        _check_post(user, csrf, "viewer")
    except Refused as exc:
        return _refused(request, user, exc)
    token = request.cookies.get(COOKIE, "")
    await run_in_threadpool(operators.log_out, svc.db, token, svc.settings.now())
    response = _to_login(request)
    response.delete_cookie(COOKIE, path="/ops")
    return response


# --------------------------------------------------------------------------- pages


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    return RedirectResponse("/ops/days", status_code=303)


@router.get("/stations", response_class=HTMLResponse)
async def stations_page(request: Request) -> Response:
    user = await _user(request)
    if user is None:
        return _to_login(request)
    svc = services(request)
    rows = await run_in_threadpool(operator_views.stations, svc.db, svc.settings.now())
    return _page(request, "ops_stations.html", user, rows=rows)


async def _books(request: Request, svc: Services) -> tuple[books.Books, str | None]:
    frm, to = _range(request, svc)
    station = request.query_params.get("station") or None
    result = await run_in_threadpool(books.books, svc.db, svc.settings, frm, to, station)
    return result, station


@router.get("/days", response_class=HTMLResponse)
async def days_page(request: Request) -> Response:
    user = await _user(request)
    if user is None:
        return _to_login(request)
    svc = services(request)
    try:
        result, station = await _books(request, svc)
    except ValueError as exc:
        return _page(request, "ops_message.html", user, 422, message=str(exc))
    return _page(request, "ops_days.html", user, books=result, station=station or "")


@router.get("/days/{day}", response_class=HTMLResponse)
async def day_page(request: Request, day: str) -> Response:
    user = await _user(request)
    if user is None:
        return _to_login(request)
    svc = services(request)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return _page(request, "ops_message.html", user, 422, message="day: use YYYY-MM-DD")
    station = request.query_params.get("station") or None
    result = await run_in_threadpool(books.books, svc.db, svc.settings, when, when, station)
    start, end = books.day_bounds(when)
    sessions = await run_in_threadpool(operator_views.sessions_of_day, svc.db, start, end, station)
    return _page(
        request,
        "ops_day.html",
        user,
        books=result,
        day=when,
        station=station or "",
        sessions=sessions,
    )


@router.get("/sessions/{session_pk}", response_class=HTMLResponse)
async def session_page(request: Request, session_pk: int) -> Response:
    user = await _user(request)
    if user is None:
        return _to_login(request)
    return await _session_page(request, user, session_pk)


async def _session_page(
    request: Request, user: SignedIn, session_pk: int, status_code: int = 200, **extra: Any
) -> Response:
    svc = services(request)
    data = await run_in_threadpool(operator_views.trail, svc.db, session_pk)
    if data is None:
        return _page(request, "ops_message.html", user, 404, message_key="no_rows")
    payment, left = await run_in_threadpool(refunds.refundable, svc, session_pk)
    timeline = await run_in_threadpool(_timeline, svc, data, _lang(request, user))
    return _page(
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


def parse_amount(text: str, currency: str) -> int:
    """An amount the operator typed ("6.25" or "6,25") as minor units, exactly."""
    try:
        money = Money.of(text.strip().replace(",", "."), currency, "amount")
    except (ValueError, TypeError) as exc:
        raise refunds.RefundError("amount", str(exc).removeprefix("amount: ")) from None
    if not money.is_rounded():
        raise refunds.RefundError("amount", f"more decimals than {currency} has")
    if money.amount > Decimal(10) ** 9:
        raise refunds.RefundError("amount", "too large")
    return money.to_minor()


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
    user = await _user(request)
    try:
        user = _check_post(user, csrf, "operator")
    except Refused as exc:
        return _refused(request, user, exc)
    payment, _left = await run_in_threadpool(refunds.refundable, svc, session_pk)
    try:
        if payment is None:
            raise refunds.RefundError("session", "nothing was captured for this session")
        minor = parse_amount(amount, payment.currency)
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


@router.get("/findings", response_class=HTMLResponse)
async def findings_page(request: Request) -> Response:
    user = await _user(request)
    if user is None:
        return _to_login(request)
    svc = services(request)
    try:
        result, station = await _books(request, svc)
    except ValueError as exc:
        return _page(request, "ops_message.html", user, 422, message=str(exc))
    state = request.query_params.get("state", "open")
    found = [f for f in result.findings() if state == "all" or not f.resolved]
    return _page(
        request,
        "ops_findings.html",
        user,
        books=result,
        findings=found,
        state=state,
        station=station or "",
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
    user = await _user(request)
    try:
        user = _check_post(user, csrf, "operator")
    except Refused as exc:
        return _refused(request, user, exc)
    if not note.strip():
        return _page(request, "ops_message.html", user, 422, message_key="note_required")
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return _page(request, "ops_message.html", user, 422, message="day: use YYYY-MM-DD")
    result = await run_in_threadpool(books.books, svc.db, svc.settings, when, when, station)
    finding = next((f for f in result.findings() if f.key == key), None)
    if finding is None:
        return _page(request, "ops_message.html", user, 404, message="key: no such finding")
    await run_in_threadpool(
        books.add_note, svc.db, svc.settings.now(), user.username, finding, note.strip()
    )
    return RedirectResponse(f"/ops/findings?from={day}&to={day}&state=all#f-{key}", status_code=303)


@router.get("/export.csv")
async def export_csv(request: Request) -> Response:
    user = await _user(request)
    if user is None:
        return _to_login(request)
    svc = services(request)
    try:
        result, _station = await _books(request, svc)
    except ValueError as exc:
        return Response(str(exc), status_code=422, media_type="text/plain")
    name = f"books-{result.date_from}-{result.date_to}.csv"
    return Response(
        books_csv(result, _lang(request, user)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


# --------------------------------------------------------------------------- settlement import


@router.get("/imports", response_class=HTMLResponse)
async def imports_page(request: Request) -> Response:
    user = await _user(request)
    if user is None:
        return _to_login(request)
    return _imports(request, user)


def _imports(request: Request, user: SignedIn, status_code: int = 200, **extra: Any) -> Response:
    svc = services(request)
    formats = {
        n: settlement_import.load_format(n)["title"] for n in settlement_import.format_names()
    }
    return _page(
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
    user = await _user(request)
    try:
        user = _check_post(user, csrf, "operator")
    except Refused as exc:
        return _refused(request, user, exc)
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
    user = await _user(request)
    try:
        user = _check_post(user, csrf, "operator")
    except Refused as exc:
        return _refused(request, user, exc)
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
