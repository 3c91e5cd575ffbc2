"""The admin's page for operator accounts (/ops/operators): create an account, change its role,
disable or enable it. Only admins see or post here; every post carries the session's CSRF
token and is audited with the admin's name."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend import operator_accounts, operators
from backend.operator_page import Refused, current_user, ops_router, page, poster, refused
from backend.operators import ROLES, OperatorError, SignedIn
from backend.services import services

router = ops_router()


async def _list(
    request: Request, user: SignedIn, status_code: int = 200, error: str = ""
) -> Response:
    svc = services(request)
    rows = await run_in_threadpool(operator_accounts.accounts, svc.db)
    return page(
        request, "ops_operators.html", user, status_code, accounts=rows, roles=ROLES, error=error
    )


@router.get("/operators", response_class=HTMLResponse)
async def operators_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None or not user.may("admin"):
        return refused(request, user, Refused(401 if user is None else 403, "not_allowed"))
    return await _list(request, user)


@router.post("/operators", response_class=HTMLResponse)
async def add_account(  # noqa: PLR0917 (one per form field)
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    language: Annotated[str, Form(max_length=2)] = "en",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    svc = services(request)
    user = await poster(request, csrf, "admin")
    if isinstance(user, Response):
        return user
    try:
        await run_in_threadpool(
            lambda: operators.add_operator(
                svc.db,
                svc.settings.now(),
                username.strip(),
                password,
                role=role,
                language=language,
                actor=user.username,
            )
        )
    except OperatorError as exc:
        return await _list(request, user, 422, str(exc))
    return RedirectResponse("/ops/operators?done=added", status_code=303)


@router.post("/operators/{username}", response_class=HTMLResponse)
async def change_account(
    request: Request,
    username: str,
    *,
    role: Annotated[str, Form(max_length=16)] = "",
    disabled: Annotated[str, Form(max_length=3)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """One form per account row: a new role, or disabled "yes"/"no"."""
    svc = services(request)
    user = await poster(request, csrf, "admin")
    if isinstance(user, Response):
        return user
    now = svc.settings.now()
    try:
        if role:
            await run_in_threadpool(
                operator_accounts.set_role, svc.db, now, user.username, username, role
            )
        if disabled in ("yes", "no"):
            await run_in_threadpool(
                operator_accounts.set_disabled,
                svc.db,
                now,
                user.username,
                username,
                disabled == "yes",
            )
        elif disabled:
            raise OperatorError("disabled: yes or no")
    except operator_accounts.LastAdmin as exc:
        return await _list(request, user, 409, str(exc))
    except OperatorError as exc:
        return await _list(request, user, 422, str(exc))
    return RedirectResponse("/ops/operators?done=changed", status_code=303)
