"""Account management: an admin creates, re-roles, disables and enables operator accounts from
/ops/operators (audited); nobody else may; the last admin is never disabled or demoted; the
`backend operator` CLI does the same under the same rules."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from backend import operator_accounts
from backend.models import AuditEvent, Operator
from tests.backend.conftest import Backend
from tests.backend.ops_steps import PASSWORD, csrf_of, make_operator, signed_in, try_login
from tests.evkiosk_cli import Ran, evkiosk


def _accounts(b: Backend) -> dict[str, tuple[str, bool]]:
    with b.svc.db.read() as s:
        return {o.username: (o.role, o.disabled) for o in s.scalars(select(Operator))}


def _audit(b: Backend) -> list[tuple[str, str, str]]:
    with b.svc.db.read() as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    return [(a.actor, a.action, a.subject) for a in rows if a.action.startswith("operator_")]


def _post(c: httpx.Client, path: str, **data: str) -> httpx.Response:
    return c.post(path, data={"csrf": csrf_of(c), **data})


def test_admin_creates_changes_and_disables_accounts(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    make_operator(b, "ada", "admin")
    admin = signed_in(b, "ada")
    page = admin.get("/ops/operators")
    assert page.status_code == 200 and 'id="add-account"' in page.text
    assert 'id="nav-operators"' in admin.get("/ops/days").text

    r = _post(admin, "/ops/operators", username="otto", password=PASSWORD, role="viewer")
    assert r.status_code == 303 and r.headers["location"] == "/ops/operators?done=added"
    otto = signed_in(b, "otto")  # the new account signs in
    assert otto.get("/ops/stations").status_code == 200

    assert _post(admin, "/ops/operators/otto", role="operator").status_code == 303
    assert _accounts(b)["otto"] == ("operator", False)

    assert _post(admin, "/ops/operators/otto", disabled="yes").status_code == 303
    assert _accounts(b)["otto"] == ("operator", True)
    # A disabled account's open session ends at once, and it cannot sign in again.
    r = otto.get("/ops/stations")
    assert r.status_code == 303 and r.headers["location"].startswith("/ops/login")
    with b.client() as c:
        assert try_login(c, "otto", PASSWORD).status_code == 401
    assert _post(admin, "/ops/operators/otto", disabled="no").status_code == 303
    assert _accounts(b)["otto"] == ("operator", False)

    assert _audit(b) == [
        ("cli", "operator_added", "operator:ada"),
        ("ada", "operator_added", "operator:otto"),
        ("ada", "operator_role", "operator:otto"),
        ("ada", "operator_disabled", "operator:otto"),
        ("ada", "operator_enabled", "operator:otto"),
    ]
    admin.close()
    otto.close()


def test_bad_account_data_is_refused_naming_the_field(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    make_operator(b, "ada", "admin")
    admin = signed_in(b, "ada")
    r = _post(admin, "/ops/operators", username="otto", password="short", role="viewer")
    assert r.status_code == 422 and "password: at least 12 characters" in r.text
    r = _post(admin, "/ops/operators", username="otto", password=PASSWORD, role="root")
    assert r.status_code == 422 and "role: one of viewer, operator, admin" in r.text
    r = _post(admin, "/ops/operators/nobody", role="viewer")
    assert r.status_code == 422 and "username: no operator" in r.text
    assert set(_accounts(b)) == {"ada"}
    admin.close()


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_an_admin_manages_accounts(sqlite_backend: Backend, role: str) -> None:
    b = sqlite_backend
    make_operator(b, "ada", "admin")
    make_operator(b, "nick", role)
    c = signed_in(b, "nick")
    assert c.get("/ops/operators").status_code == 403
    assert 'id="nav-operators"' not in c.get("/ops/days").text
    forms = (
        ("/ops/operators", {"username": "eve", "password": PASSWORD, "role": "admin"}),
        ("/ops/operators/nick", {"role": "admin"}),
        ("/ops/operators/ada", {"disabled": "yes"}),
    )
    for path, data in forms:
        assert _post(c, path, **data).status_code == 403, path
    assert _accounts(b) == {"ada": ("admin", False), "nick": (role, False)}
    assert _audit(b) == [
        ("cli", "operator_added", "operator:ada"),
        ("cli", "operator_added", "operator:nick"),
    ]
    c.close()
    with b.client() as anonymous:
        r = anonymous.get("/ops/operators")
        assert r.status_code == 303 and r.headers["location"].startswith("/ops/login")


def test_admin_posts_need_the_csrf_token(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    make_operator(b, "ada", "admin")
    make_operator(b, "otto", "viewer")
    admin = signed_in(b, "ada")
    r = admin.post("/ops/operators/otto", data={"csrf": "forged", "disabled": "yes"})
    assert r.status_code == 403 and _accounts(b)["otto"] == ("viewer", False)
    admin.close()


def test_the_last_admin_is_never_disabled_or_demoted(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    make_operator(b, "ada", "admin")
    make_operator(b, "bob", "admin")
    ada = signed_in(b, "ada")
    # Two admins: one may disable the other ...
    assert _post(ada, "/ops/operators/bob", disabled="yes").status_code == 303
    # ... and then the one left is the last: not herself, not by demotion.
    r = _post(ada, "/ops/operators/ada", disabled="yes")
    assert r.status_code == 409 and "ada is the last admin" in r.text
    assert _post(ada, "/ops/operators/ada", role="operator").status_code == 409
    assert _accounts(b) == {"ada": ("admin", False), "bob": ("admin", True)}
    # A disabled admin does not count: re-enable bob, then ada may step down.
    assert _post(ada, "/ops/operators/bob", disabled="no").status_code == 303
    assert _post(ada, "/ops/operators/ada", role="operator").status_code == 303
    assert _accounts(b)["ada"] == ("operator", False)
    assert ada.get("/ops/operators").status_code == 403  # her new role, at once
    ada.close()
    with pytest.raises(operator_accounts.LastAdmin, match=r"^username: bob is the last admin"):
        operator_accounts.set_disabled(b.svc.db, b.clock(), "test", "bob", True)


def _cli(b: Backend, *args: str) -> Ran:
    env = {"EVKIOSK_OPERATOR_PASSWORD": PASSWORD}
    return evkiosk("backend", "operator", *args, "--db", b.db_url, env=env)


def test_cli_adds_lists_disables_and_keeps_the_last_admin(sqlite_backend: Backend) -> None:
    b = sqlite_backend
    assert _cli(b, "add", "ada", "--role", "admin").returncode == 0
    assert _cli(b, "add", "otto", "--role", "viewer", "--language", "de").returncode == 0
    assert _cli(b, "role", "otto", "operator", "--by", "ada").returncode == 0
    assert _cli(b, "disable", "otto", "--by", "ada").returncode == 0
    listed = _cli(b, "list").stdout.splitlines()
    assert listed[1].split() == ["ada", "admin", "en", "active"]
    assert listed[2].split() == ["otto", "operator", "de", "disabled"]
    last = _cli(b, "disable", "ada")
    assert last.returncode == 2 and "username: ada is the last admin" in last.stderr
    missing = _cli(b, "enable", "nobody")
    assert missing.returncode == 2 and "username: no operator 'nobody'" in missing.stderr
    assert ("ada", "operator_disabled", "operator:otto") in _audit(b)
    with b.client() as c:
        assert try_login(c, "otto", PASSWORD).status_code == 401
