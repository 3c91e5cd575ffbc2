"""The digital receipt never scrolls sideways on a 360 or 412 px phone, in any language, even
with the longest content a receipt can carry: the longest station and session ids the API
accepts, four-digit amounts in every column, a negative line (not charged after Stop) and a
card payment with every field. Checked in Debian's headless chromium (a real layout engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from backend.texts import LANGUAGES
from tests.backend.conftest import Backend
from tests.backend.steps import card, report, session_body
from tests.backend.test_pay_browser import browser  # noqa: F401 (the module's browser fixture)
from tests.backend.test_phone_pages_browser import phone, shots_dir

pytestmark = pytest.mark.needs_chromium

PHONE_WIDTHS = (360, 412)
STATION = "ST-MARKTPLATZ-SUEDSEITE-PARKHAUS-0001"[:36]  # the longest id the API accepts
SESSION = "S-20260302-MARKTPLATZ-SUEDSEITE-PARKHAUS-0001-LADEPUNKT-07-ABCDE"[:64]


def widest_receipt(backend: Backend) -> str:
    """A receipt of 20 000 kWh (11 662,42 € by the tariff) of which 9 000,00 € was charged."""
    payment = {**card(4711, captured=900_000, authorized=1_000_000), "auth_code": "ABCDEF123456"}
    with backend.station(STATION) as st:
        body = report(
            st,
            session_body(
                SESSION,
                payment,
                meter_start_wh=0,
                meter_end_wh=20_000_000,
                total_cost=1_166_242,
            ),
        )
    return str(body["receipt_url"])


def overflow(driver: WebDriver, width: int) -> list[str]:
    """The document's scroll width against the phone's width (the layout viewport of a mobile
    browser widens to the content, so window.innerWidth alone cannot tell), and each text box
    that sticks out past the right edge or spills out of its own box over its neighbour (named
    by tag, id and text, so a failure says what to fix)."""
    found: Any = driver.execute_script(
        """
        const width = arguments[0];
        const out = [];
        const doc = document.documentElement;
        if (doc.scrollWidth > width || window.innerWidth > width) {
          out.push(`document ${doc.scrollWidth} px wide, viewport ${window.innerWidth} px`);
        }
        for (const el of document.querySelectorAll('main :is(h1, h2, p, dt, dd, th, td)')) {
          const r = el.getBoundingClientRect();
          if (r.right > width + 0.5 || el.scrollWidth > el.clientWidth + 1) {
            const text = el.textContent.trim().slice(0, 40);
            out.push(`${el.tagName}#${el.id} "${text}" ends at ${r.right}`);
          }
        }
        return out;
        """,
        width,
    )
    return [str(x) for x in found]


def test_the_widest_receipt_never_scrolls_sideways_on_phones_in_any_language(
    sqlite_backend: Backend,
    browser: WebDriver,  # noqa: F811
    tmp_path: Path,
) -> None:
    url = widest_receipt(sqlite_backend)
    out = shots_dir(tmp_path)
    problems: list[str] = []
    for lang in LANGUAGES:
        for width in PHONE_WIDTHS:
            phone(browser, width)
            browser.get(f"{url}?lang={lang}")
            text = browser.find_element(By.ID, "total").text.replace("\xa0", " ")
            assert "9" in text and "000" in text, text  # the total charged is on the page
            problems += [f"{lang} {width}px: {p}" for p in overflow(browser, width)]
            browser.save_screenshot(str(out / f"receipt-widest-{lang}-{width}.png"))
    assert problems == [], "\n".join(problems)
