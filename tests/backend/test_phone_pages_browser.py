"""The pay page and the digital receipt on phones of 360, 412 and 768 px in every language,
in Debian's headless chromium: nothing scrolls sideways, the key texts are there, and each
page is saved as a screenshot (to EVKIOSK_SHOTS, else the test's temporary directory)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.backend.conftest import Backend
from tests.backend.steps import link_body, paid_link, session_body
from tests.backend.test_pay_browser import browser  # noqa: F401 (the module's browser fixture)

pytestmark = pytest.mark.needs_chromium

WIDTHS = (360, 412, 768)
# What each language must say: the unit price exact and gross (0.49 + 19 %), worded as on the
# kiosk; the hold as reserved; the receipt's title, and its total as charged, in the
# language's own format (never "EUR 6.25").
EXPECTED = {
    "en": ("€0.5831 per kWh", "€50.00", "Charging receipt", "€6.25"),
    "de": ("0,5831\xa0€ pro kWh", "50,00\xa0€", "Ladebeleg", "6,25\xa0€"),
    "fr": ("0,5831\xa0€ par kWh", "50,00\xa0€", "Reçu de charge", "6,25\xa0€"),
}


def phone(driver: WebDriver, width: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": True},
    )


def sideways(driver: WebDriver, width: int) -> tuple[int, int]:
    """The document's width and the phone's: a mobile browser widens its layout viewport (and
    window.innerWidth) to overflowing content, so the phone's own width is the measure."""
    scroll: Any = driver.execute_script("return document.documentElement.scrollWidth")
    return int(scroll), width


def shots_dir(tmp_path: Path) -> Path:
    out = Path(os.environ.get("EVKIOSK_SHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_pay_and_receipt_pages_fit_phones_in_every_language(
    sqlite_backend: Backend,
    browser: WebDriver,  # noqa: F811
    tmp_path: Path,
) -> None:
    with sqlite_backend.station("ST-PHONE") as st:
        link = st.post(
            "/api/v1/payment-links", json=link_body(5000, time_zone="Europe/Berlin")
        ).json()
        paid = paid_link(sqlite_backend, st)
        card = {
            "method": "card",
            "terminal_id": "52500001",
            "card_brand": "girocard",
            "masked_pan": "672559******1234",
            "authorized_amount": 5000,
            "captured_amount": 625,
        }
        online = st.post(
            "/api/v1/sessions", json=session_body("S-PHONE-1", {"method": "link", "link_id": paid})
        ).json()
        receipt = st.post("/api/v1/sessions", json=session_body("S-20260302-0001", card)).json()
    out = shots_dir(tmp_path)
    problems = []
    for lang, (energy, hold, receipt_title, total) in EXPECTED.items():
        for width in WIDTHS:
            phone(browser, width)
            browser.get(f"{link['url']}?lang={lang}")
            page = browser.find_element(By.TAG_NAME, "main").text.replace("\xa0", " ")
            wanted = (energy.replace("\xa0", " "), hold.replace("\xa0", " "))
            if any(text not in page for text in wanted) or "UTC" in page:
                problems.append(f"pay {lang} {width}: {page[:300]!r}")
            scroll, view = sideways(browser, width)
            if scroll > view:
                problems.append(f"pay {lang} {width}: {scroll} px wide in {view}")
            browser.save_screenshot(str(out / f"pay-{lang}-{width}.png"))
            for kind, url, detail in (
                ("card", receipt["receipt_url"], "672559******1234"),
                ("online", online["receipt_url"], "S-PHONE-1"),  # a long gateway reference
            ):
                browser.get(f"{url}?lang={lang}")
                page = browser.find_element(By.TAG_NAME, "main").text
                shown_total = browser.find_element(By.ID, "total").text
                if receipt_title not in page or detail not in page or "EUR" in page:
                    problems.append(f"receipt {kind} {lang} {width}: {page[:300]!r}")
                if shown_total.replace("\xa0", " ") != total.replace("\xa0", " "):
                    problems.append(f"receipt {kind} {lang} {width}: total {shown_total!r}")
                scroll, view = sideways(browser, width)
                if scroll > view:
                    problems.append(f"receipt {kind} {lang} {width}: {scroll} px wide in {view}")
                browser.save_screenshot(str(out / f"receipt-{kind}-{lang}-{width}.png"))
    assert problems == []
