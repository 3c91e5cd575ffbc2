"""Steps shared by the operator-page tests: accounts, signing in over real HTTP, forms."""

from __future__ import annotations

import re

import httpx

from backend.operators import add_operator
from tests.backend.conftest import Backend

PASSWORD = "correct horse battery staple"


def make_operator(backend: Backend, username: str, role: str, language: str = "en") -> None:
    add_operator(backend.svc.db, backend.clock(), username, PASSWORD, role=role, language=language)


def hidden(html: str, name: str) -> str:
    """The value of the first hidden input called `name` on a page."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


def try_login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    form = client.get("/ops/login")
    return client.post(
        "/ops/login",
        data={
            "username": username,
            "password": password,
            "form_token": hidden(form.text, "form_token"),
        },
    )


def signed_in(backend: Backend, username: str, password: str = PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=backend.url, timeout=30)
    r = try_login(client, username, password)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/ops/days"
    return client


def csrf_of(client: httpx.Client, path: str = "/ops/stations") -> str:
    return hidden(client.get(path).text, "csrf")
