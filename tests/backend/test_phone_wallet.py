"""Wallet buttons (Apple Pay, Google Pay) on the pay page's Stripe path: Stripe's Payment
Request holds the link's amount, the backend records the hold from Stripe's webhook; off the
Stripe path, or without a publishable key, or in a browser without a wallet, nothing changes.

Stripe.js cannot load here (no network, and it is blocked to be sure): the browser test puts a
stand-in for it on the page that records what the page asks of it, so the page's own script,
the backend's intent endpoint and the webhook are the real ones."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.backend.conftest import Backend, start_backend
from tests.backend.steps import link_body, session_body
from tests.backend.stripe_sim import StripeSimulator
from tests.backend.test_pay_browser import browser  # noqa: F401 (the module's browser fixture)
from tests.backend.test_stripe import SECRET, stripe_backend, stripe_sim  # noqa: F401

PUBLISHABLE = "pk_test_wallet"


@pytest.fixture
def wallet_backend(stripe_sim: StripeSimulator, tmp_path: Path) -> Iterator[Backend]:  # noqa: F811
    server, b = start_backend(
        f"sqlite:///{tmp_path / 'backend.db'}",
        gateway="stripe",
        stripe_api_key="sk_test_123",
        stripe_api_base=stripe_sim.base_url,
        stripe_webhook_secret=SECRET,
        stripe_publishable_key=PUBLISHABLE,
    )
    b.clock.now_value = datetime.now(UTC)  # webhooks are signed with the real time
    stripe_sim.webhook_url = f"{server.url}/webhooks/stripe"
    with server:
        yield b
    b.svc.close()


def _wallet_box(page: str) -> dict[str, str]:
    tag = re.search(r'<div id="wallet"[^>]*>', page)
    assert tag is not None, "no wallet element"
    return dict(re.findall(r'data-(\w+)="([^"]*)"', tag.group(0))) | {
        "hidden": str(" hidden" in tag.group(0))
    }


def test_the_wallet_holds_the_amount_and_the_webhook_records_it_once(
    wallet_backend: Backend,
    stripe_sim: StripeSimulator,  # noqa: F811
) -> None:
    b = wallet_backend
    with b.station("ST") as st:
        link = st.post("/api/v1/payment-links", json=link_body(5000)).json()
        with b.client() as phone:
            page = phone.get(f"/pay/{link['id']}?lang=de")
            first = phone.post(f"/pay/{link['id']}/wallet")
            again = phone.post(f"/pay/{link['id']}/wallet")
        box = _wallet_box(page.text)
        assert box["amount"] == "5000" and box["currency"] == "eur" and box["country"] == "DE"
        assert box["key"] == PUBLISHABLE and box["hidden"] == "True"  # until Stripe.js says so
        csp = page.headers["content-security-policy"]
        assert "script-src 'self' https://js.stripe.com" in csp
        assert first.status_code == 200 and again.json() == first.json()  # one intent a link
        secret = first.json()["client_secret"]
        pi = secret.split("_secret_")[0]
        assert stripe_sim.intents[pi]["capture_method"] == "manual"
        assert stripe_sim.intents[pi]["amount"] == 5000
        assert stripe_sim.confirm_wallet(pi).json() == {"result": "authorized"}
        # Stripe may send the event twice: the second one neither books nor releases.
        assert stripe_sim.confirm_wallet(pi).json()["result"].startswith("ignored")
        assert st.get(f"/api/v1/payment-links/{link['id']}").json()["status"] == "authorized"
        r = st.post(
            "/api/v1/sessions", json=session_body("S1", {"method": "link", "link_id": link["id"]})
        )
    assert r.json()["captured"] == 625
    assert stripe_sim.intents[pi]["status"] == "succeeded"
    with b.client() as phone:
        paid = phone.post(f"/pay/{link['id']}/wallet")
    assert paid.status_code == 409  # a paid link makes no new intent


def test_no_wallet_without_a_publishable_key_or_off_the_stripe_path(
    stripe_backend: Backend,  # noqa: F811
    sqlite_backend: Backend,
) -> None:
    for station, b in (("ST-STRIPE", stripe_backend), ("ST-SANDBOX", sqlite_backend)):
        with b.station(station) as st:
            link = st.post("/api/v1/payment-links", json=link_body(5000)).json()
        with b.client() as phone:
            page = phone.get(f"/pay/{link['id']}")
            wallet = phone.post(f"/pay/{link['id']}/wallet")
        assert page.status_code == 200 and 'id="wallet"' not in page.text
        assert "<script" not in page.text
        assert "script-src" not in page.headers["content-security-policy"]
        assert wallet.status_code == 404


# Stands in for Stripe.js: records what the page asks for; the browser has a wallet when
# window.__walletSupported is true.
STRIPE_STAND_IN = """
window.__wallet = {mounted: null, completed: null};
window.Stripe = function (key) {
  window.__wallet.key = key;
  return {
    paymentRequest: function (options) {
      window.__wallet.options = options;
      return {
        canMakePayment: function () {
          return Promise.resolve(window.__walletSupported ? {googlePay: true} : null);
        },
        on: function (name, handler) { window.__wallet[name] = handler; },
      };
    },
    elements: function () {
      return {create: function (kind) {
        window.__wallet.kind = kind;
        return {mount: function (where) { window.__wallet.mounted = where; }};
      }};
    },
    confirmCardPayment: function (secret, data) {
      window.__wallet.confirmed = [secret, data.payment_method];
      return Promise.resolve({paymentIntent: {status: "requires_capture"}});
    },
  };
};
"""


def _open(driver: WebDriver, url: str, supported: bool | None) -> None:
    """The pay page with Stripe.js blocked and, unless ``supported`` is None, the stand-in."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*js.stripe.com*"]})
    added: list[str] = []
    if supported is not None:
        flag = f"window.__walletSupported = {'true' if supported else 'false'};"
        added.append(
            driver.execute_cdp_cmd(
                "Page.addScriptToEvaluateOnNewDocument", {"source": flag + STRIPE_STAND_IN}
            )["identifier"]
        )
    try:
        driver.get(url)
        driver.find_element(By.ID, "pay")  # loaded; deferred scripts have run
        driver.execute_async_script("setTimeout(arguments[0], 50)")  # canMakePayment settles
    finally:
        for identifier in added:
            driver.execute_cdp_cmd(
                "Page.removeScriptToEvaluateOnNewDocument", {"identifier": identifier}
            )


def test_the_wallet_button_shows_only_where_the_browser_has_a_wallet(
    wallet_backend: Backend,
    stripe_sim: StripeSimulator,  # noqa: F811
    browser: WebDriver,  # noqa: F811
) -> None:
    with wallet_backend.station("ST") as st:
        link = st.post("/api/v1/payment-links", json=link_body(5000)).json()
    url = f"{link['url']}?lang=fr"
    for supported in (None, False):  # no Stripe.js at all; Stripe.js but no wallet
        _open(browser, url, supported)
        assert not browser.find_element(By.ID, "wallet").is_displayed(), supported
        assert browser.find_element(By.ID, "pay").is_displayed()  # the hosted checkout stays
    _open(browser, url, True)
    assert browser.find_element(By.ID, "wallet").is_displayed()
    seen: Any = browser.execute_script("return window.__wallet")
    assert seen["key"] == PUBLISHABLE and seen["kind"] == "paymentRequestButton"
    assert seen["mounted"] == "#wallet-button"
    assert seen["options"]["total"]["amount"] == 5000
    assert seen["options"]["currency"] == "eur" and seen["options"]["country"] == "DE"
    # The driver approves in the wallet: the page gets the intent from the backend and
    # confirms it with the wallet's card, then goes on to the status page.
    # The wallet's answer is kept in sessionStorage: the page may go on to the status page at
    # once, and a script waiting in the page would end with it, never answering.
    browser.execute_script(
        "sessionStorage.removeItem('walletCompleted');"
        "window.__wallet.paymentmethod({paymentMethod: {id: 'pm_wallet'},"
        " complete: function (s) { sessionStorage.setItem('walletCompleted', s); }})"
    )
    done: Any = WebDriverWait(browser, 30, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return sessionStorage.getItem('walletCompleted')")
    )
    assert done in ("success", "left the page")
    # Until Stripe's webhook arrives the status page waits (and reloads itself) instead of
    # sending the driver back to the pay page.
    browser.get(f"{link['url']}/status?lang=fr&wallet=1")
    assert browser.find_element(By.ID, "status").get_attribute("data-status") == "pending"
    assert browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]")
    pi = next(iter(stripe_sim.intents))
    assert stripe_sim.confirm_wallet(pi).json() == {"result": "authorized"}
    browser.get(f"{link['url']}/status?lang=fr")
    assert "Paiement accepté" in browser.find_element(By.TAG_NAME, "main").text
