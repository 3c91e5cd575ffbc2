"""The pay page in a real browser (Debian's headless chromium), driven like a phone would be."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.backend.conftest import Backend
from tests.backend.steps import link_body
from tests.conftest import require_executable

pytestmark = pytest.mark.needs_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium = require_executable("chromium")
    chromedriver = require_executable("chromedriver", package="chromium-driver")
    profile = tempfile.TemporaryDirectory(prefix="evk-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=390,844",  # a phone-sized viewport
        f"--user-data-dir={profile.name}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


def by_label(driver: WebDriver, text: str) -> Any:
    """The input a visible <label> names, as a screen reader would find it."""
    label = driver.find_element(By.XPATH, f"//label[normalize-space()='{text}']")
    return driver.find_element(By.ID, label.get_attribute("for"))


def long_poll(st: Any, link_id: str, known: str, out: dict[str, Any]) -> threading.Thread:
    def run() -> None:
        out["r"] = st.get(
            f"/api/v1/payment-links/{link_id}", params={"wait": 30, "status": known}
        ).json()

    t = threading.Thread(target=run)
    t.start()
    return t


def wait_for(driver: WebDriver, element_id: str) -> Any:
    """The element once the page that has it has loaded (a click does not wait for it)."""
    return WebDriverWait(driver, 20).until(
        expected_conditions.presence_of_element_located((By.ID, element_id))
    )


def fill_and_pay(driver: WebDriver, number: str) -> None:
    by_label(driver, "Card number").send_keys(number)
    by_label(driver, "Expiry").send_keys("12/30")
    by_label(driver, "CVC").send_keys("123")
    driver.find_element(By.XPATH, "//button[normalize-space()='Pay']").click()


def test_pay_with_approving_card_and_kiosk_sees_authorized(
    sqlite_backend: Backend, browser: WebDriver
) -> None:
    with sqlite_backend.station("ST-7") as st:
        link = st.post("/api/v1/payment-links", json=link_body(5000)).json()
        browser.get(link["url"])
        assert "ST-7" in browser.find_element(By.ID, "station").text
        price = browser.find_element(By.ID, "price").text
        assert "€0.5831 per kWh" in price and "per session" in price
        assert browser.find_element(By.ID, "hold").text == "€50.00"
        seen: dict[str, Any] = {}
        poller = long_poll(st, link["id"], "pending", seen)
        time.sleep(0.2)
        fill_and_pay(browser, "4242 4242 4242 4242")
        assert wait_for(browser, "heading").text == "Payment approved"
        poller.join(35)
    assert seen["r"]["status"] == "authorized"


def test_declining_card_shows_why_and_link_stays_pending(
    sqlite_backend: Backend, browser: WebDriver
) -> None:
    with sqlite_backend.station("ST-8") as st:
        link = st.post("/api/v1/payment-links", json=link_body(5000)).json()
        browser.get(link["url"])
        fill_and_pay(browser, "4000 0000 0000 0002")
        assert "declined" in wait_for(browser, "error").text
        # The form is shown again for another card; the kiosk still waits.
        assert by_label(browser, "Card number").get_attribute("value") == ""
        state = st.get(f"/api/v1/payment-links/{link['id']}", params={"wait": 0.2}).json()
    assert state["status"] == "pending"
    assert state["declines"] == 1 and state["last_decline"] == "card_declined"


def test_bad_card_number_names_the_field(sqlite_backend: Backend, browser: WebDriver) -> None:
    with sqlite_backend.station("ST-9") as st:
        link = st.post("/api/v1/payment-links", json=link_body(5000)).json()
        browser.get(link["url"])
        fill_and_pay(browser, "4242 4242 4242 4241")
        assert wait_for(browser, "error").text.startswith("Card number:")
        assert by_label(browser, "Card number").get_attribute("aria-invalid") == "true"
