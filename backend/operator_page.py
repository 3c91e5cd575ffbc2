"""What every operator page (/ops) shares: the signed-in operator from the session cookie, the
check on every post (signed in, the session's CSRF token, the role), and rendering a page with
the operator's language and the security headers."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from backend import books, operators, pages, phone_format
from backend.operator_texts import OPERATOR_LANGUAGES, OPS_TEXTS
from backend.operators import SignedIn
from backend.services import Services, services

templates = Jinja2Templates(env=pages.env)

COOKIE = "evk_ops"
LOGIN_COOKIE = "evk_ops_login"  # double-submit token of the sign-in form

HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}


def ops_router() -> APIRouter:
    """A router for one group of operator pages, below /ops and out of the API schema."""
    return APIRouter(prefix="/ops", include_in_schema=False)


class Refused(Exception):
    def __init__(self, status_code: int, key: str) -> None:
        super().__init__(key)
        self.status_code = status_code
        self.key = key


def lang(request: Request, user: SignedIn | None) -> str:
    asked = request.query_params.get("lang")
    if asked in OPERATOR_LANGUAGES:
        return str(asked)
    if user is not None:
        return user.language
    first = request.headers.get("accept-language", "")[:2].lower()
    return first if first in OPERATOR_LANGUAGES else "en"


def page(
    request: Request, name: str, user: SignedIn | None, status_code: int = 200, **context: Any
) -> Response:
    svc = services(request)
    language = lang(request, user)
    context.update(
        lang=language,
        t=OPS_TEXTS[language],
        user=user,
        operator=svc.settings.operator_name,
        money=partial(_money, lang=language),
        classes=books.class_names(language),
    )
    return templates.TemplateResponse(request, name, context, status_code, dict(HEADERS))


def message(
    request: Request, user: SignedIn | None, status_code: int, *, key: str = "", text: str = ""
) -> Response:
    """The message page: a text from OPS_TEXTS by `key`, or `text` as it is."""
    if key:
        return page(request, "ops_message.html", user, status_code, message_key=key)
    return page(request, "ops_message.html", user, status_code, message=text)


def _money(minor: int | None, currency: str, lang: str) -> str:
    return "" if minor is None else phone_format.money_minor(minor, currency, lang)


def secure(svc: Services) -> bool:
    return svc.settings.public_url.startswith("https://")


async def current_user(request: Request) -> SignedIn | None:
    svc = services(request)
    token = request.cookies.get(COOKIE)
    return await run_in_threadpool(operators.signed_in, svc.db, token, svc.settings.now())


def to_login(request: Request) -> Response:
    return RedirectResponse(f"/ops/login?lang={lang(request, None)}", status_code=303)


def check_post(user: SignedIn | None, csrf: str, role: str) -> SignedIn:
    if user is None:
        raise Refused(401, "sign_in")
    if not operators.csrf_matches(user, csrf):
        raise Refused(403, "csrf")
    if not user.may(role):
        raise Refused(403, "not_allowed")
    return user


def refused(request: Request, user: SignedIn | None, exc: Refused) -> Response:
    if exc.status_code == 401:
        return to_login(request)
    return message(request, user, exc.status_code, key=exc.key)


async def viewer(request: Request) -> SignedIn | Response:
    """The signed-in operator a page is shown to, or the way to the sign-in page."""
    user = await current_user(request)
    return to_login(request) if user is None else user


async def poster(request: Request, csrf: str, role: str) -> SignedIn | Response:
    """The signed-in operator whose post may go ahead (CSRF token and `role` checked), or the
    answer that refuses it."""
    user = await current_user(request)
    try:
        return check_post(user, csrf, role)
    except Refused as exc:
        return refused(request, user, exc)
