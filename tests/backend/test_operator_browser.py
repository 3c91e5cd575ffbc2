"""The operator closes a day in Debian's headless chromium: signs in, finds the planted
discrepancy, resolves it with a note, refunds a QR session and sees the refund in the day's
totals; on a tablet (768 px) and a laptop (1280 px) nothing scrolls sideways. Each page is
saved as a screenshot (to EVKIOSK_SHOTS, else the test's temporary directory)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy import select

from backend import books, refunds
from backend.models import ChargingSession
from tests.backend.conftest import Backend
from tests.backend.ops_steps import PASSWORD, make_operator
from tests.backend.steps import card, paid_link, report, session_body
from tests.backend.test_pay_browser import browser, by_label, wait_for  # noqa: F401
from tests.backend.test_phone_pages_browser import shots_dir, sideways

pytestmark = pytest.mark.needs_chromium

# The acquirer's statement for the two card sessions, in its own format (decimal comma).
STATEMENT = """Vorgangsnummer;Buchungsdatum;Vorgangsart;Terminal-ID;Belegnummer;Währung;Betrag;\
Entgelt;Auszahlungsbetrag;Auszahlungsnummer
V-1;03.03.2026;Umsatz;52500001;7;EUR;5,00;0,05;4,95;A-9
V-2;03.03.2026;Umsatz;52500001;8;EUR;6,25;0,06;6,19;A-9
V-3;04.03.2026;Auszahlung;;;EUR;;;11,14;A-9
"""


def _plant_day(b: Backend) -> None:
    with b.station("ST-NORTH") as st:
        # QR session, clean: 6.25 computed and captured.
        report(st, session_body("S-QR-1", {"method": "link", "link_id": paid_link(b, st)}))
        # Card session, planted: the terminal captured 5.00 of a 6.25 session.
        report(st, session_body("S-CARD-7", card(7, captured=500)))
        report(st, session_body("S-CARD-8", card(8)))


def _size(driver: WebDriver, width: int, height: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 1000},
    )


def _sign_in(driver: WebDriver, url: str, user: str) -> None:
    driver.get(f"{url}/ops/login?lang=en")
    by_label(driver, "User name").send_keys(user)
    by_label(driver, "Password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    wait_for(driver, "days")


def test_operator_resolves_a_finding_and_refunds_a_qr_session(
    sqlite_backend: Backend,
    browser: WebDriver,  # noqa: F811
    tmp_path: Path,
) -> None:
    b = sqlite_backend
    out = shots_dir(tmp_path)
    make_operator(b, "olga", "operator")
    _plant_day(b)
    _size(browser, 1280, 900)
    _sign_in(browser, b.url, "olga")
    row = browser.find_element(By.CSS_SELECTOR, "#days tbody tr.dirty")
    assert "ST-NORTH" in row.text and "€18.75" in row.text and "€17.50" in row.text
    browser.save_screenshot(str(out / "ops-days.png"))

    # The day's open finding, from the days table.
    row.find_element(By.CSS_SELECTOR, "td:last-child a").click()
    articles = browser.find_elements(By.CSS_SELECTOR, "article.finding.open")
    assert [a.get_attribute("data-class") for a in articles] == ["captured_ne_computed"]
    assert "captured €5.00, computed €6.25" in articles[0].text
    browser.save_screenshot(str(out / "ops-finding-open.png"))
    finding_id = str(articles[0].get_attribute("id"))
    articles[0].find_element(By.TAG_NAME, "textarea").send_keys(
        "Terminal 52500001 booked 5.00 after a stop at the kiosk; driver agreed, no claim."
    )
    articles[0].find_element(By.CSS_SELECTOR, "form.resolve button").click()
    WebDriverWait(browser, 20, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: "resolved" in (d.find_element(By.ID, finding_id).get_attribute("class") or "")
    )
    finding = browser.find_element(By.ID, finding_id)
    # Resolved, with the note, who and when; the finding itself is still there.
    assert "resolved" in (finding.get_attribute("class") or "")
    assert "driver agreed, no claim" in finding.text and "olga" in finding.text
    browser.save_screenshot(str(out / "ops-finding-resolved.png"))

    # Refund the QR session in full from its trail, reached through the day view.
    browser.get(f"{b.url}/ops/days/2026-03-02?station=ST-NORTH")
    assert browser.find_element(By.ID, "refunded-ST-NORTH").text == "€0.00"
    browser.save_screenshot(str(out / "ops-day.png"))
    browser.find_element(By.LINK_TEXT, "S-QR-1").click()
    wait_for(browser, "refund-form")
    amount = by_label(browser, "Amount (EUR)")
    assert amount.get_attribute("value") == "6.25"
    by_label(browser, "Reason").send_keys("Charger fault: session stopped by the station")
    browser.save_screenshot(str(out / "ops-session.png"))
    browser.find_element(By.ID, "refund-button").click()
    assert wait_for(browser, "done").text == "Refund recorded."
    assert "Charger fault" in browser.find_element(By.ID, "refunds").text
    browser.find_element(By.PARTIAL_LINK_TEXT, "Day 2026-03-02").click()
    assert wait_for(browser, "refunded-ST-NORTH").text == "€6.25"
    assert browser.find_element(By.ID, "captured-ST-NORTH").text == "€17.50"

    # The acquirer's statement arrives: upload it, and the day reads through to the payout.
    statement = tmp_path / "abrechnung.csv"
    statement.write_bytes(STATEMENT.encode("cp1252"))
    browser.find_element(By.LINK_TEXT, "Settlement import").click()
    Select(by_label(browser, "Acquirer format")).select_by_value("de_card_acquirer")
    by_label(browser, "Settlement file (CSV)").send_keys(str(statement))
    browser.save_screenshot(str(out / "ops-imports.png"))
    browser.find_element(By.ID, "import-button").click()
    assert wait_for(browser, "imported").text == "Imported 3 records."
    browser.get(f"{b.url}/ops/days/2026-03-02?station=ST-NORTH")
    flow = browser.find_element(By.CSS_SELECTOR, "ol.flow").text
    assert "Settled\n€11.25" in flow and "Paid out\n€11.14" in flow, flow
    browser.save_screenshot(str(out / "ops-day-closed.png"))

    # Tablet and laptop: every page fits its width.
    problems = []
    for width, height in ((768, 1024), (1280, 900)):
        _size(browser, width, height)
        for name, path in (
            ("stations", "/ops/stations"),
            ("days", "/ops/days"),
            ("findings", "/ops/findings?from=2026-03-02&to=2026-03-02&state=all"),
            ("day", "/ops/days/2026-03-02"),
        ):
            browser.get(b.url + path)
            scroll, view = sideways(browser, width)
            if scroll > view:
                problems.append(f"{name} {width}: {scroll} px wide in {view}")
            browser.save_screenshot(str(out / f"ops-{name}-{width}.png"))
    assert problems == []


def test_german_operator_sees_german_pages(
    sqlite_backend: Backend,
    browser: WebDriver,  # noqa: F811
) -> None:
    b = sqlite_backend
    make_operator(b, "dora", "viewer", language="de")
    _plant_day(b)
    _size(browser, 1024, 768)
    browser.get(f"{b.url}/ops/login?lang=de")
    by_label(browser, "Benutzername").send_keys("dora")
    by_label(browser, "Passwort").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    table = wait_for(browser, "days")
    assert "Erstattet" in table.text and "Ausgezahlt" in table.text
    browser.get(f"{b.url}/ops/findings?from=2026-03-02&to=2026-03-02")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "Eingezogener Betrag weicht von den berechneten Kosten ab" in text
    assert "eingezogen 5,00\u00a0€, berechnet 6,25\u00a0€" in text.replace(" €", "\u00a0€")
    # A viewer sees no form that changes anything.
    assert browser.find_elements(By.CSS_SELECTOR, "form.resolve") == []


def _pk(b: Backend, session_id: str) -> int:
    with b.svc.db.read() as s:
        pk = s.scalar(select(ChargingSession.pk).where(ChargingSession.session_id == session_id))
    assert pk is not None
    return pk


def _timeline(driver: WebDriver) -> list[tuple[str, str]]:
    items = wait_for(driver, "timeline").find_elements(By.TAG_NAME, "li")
    return [(str(li.get_attribute("data-kind")), li.text) for li in items]


def test_session_trail_reads_in_time_order(
    sqlite_backend: Backend,
    browser: WebDriver,  # noqa: F811
    tmp_path: Path,
) -> None:
    """What the report carries and what the backend recorded, oldest first: the tariff, the
    hold on the payment page, the readings, the terminal's and the gateway's records, the
    station's report, then the operator's resolution and refund."""
    b = sqlite_backend
    make_operator(b, "olga", "operator")
    with b.station("ST-NORTH") as st:
        link_id = paid_link(b, st)  # 09:00: hold on the payment page
        b.clock.advance(minutes=65)  # the station reports after the 09:00-10:00 session
        report(st, session_body("S-QR-1", {"method": "link", "link_id": link_id}))
        report(st, session_body("S-CARD-7", card(7, captured=500)))
    b.clock.advance(minutes=30)
    day = books.books(b.svc.db, b.svc.settings, date(2026, 3, 2), date(2026, 3, 2))
    [finding] = day.findings()
    books.add_note(b.svc.db, b.clock(), "olga", finding, "driver agreed to 5.00")
    b.clock.advance(minutes=10)
    done = refunds.refund_session(
        b.svc, _pk(b, "S-CARD-7"), 100, reason="late start", actor="olga", request_key="k" * 20
    )
    assert done.status == "instructed"
    _size(browser, 1280, 900)
    _sign_in(browser, b.url, "olga")

    browser.get(f"{b.url}/ops/sessions/{_pk(b, 'S-CARD-7')}")
    card_trail = _timeline(browser)
    kinds = [k for k, _t in card_trail]
    assert kinds[:7] == [
        "tariff", "start", "end", "terminal", "terminal_capture", "report", "resolution",
    ]  # fmt: skip
    assert kinds[7:9] == ["refund", "audit"]  # the refund and its audit record
    text = dict(card_trail)
    assert "2026-03-02 09:00:00 Charging started, meter at 100000 Wh" in text["start"]
    assert "meter at 110000 Wh (10.000 kWh)" in text["end"]
    assert "Terminal 52500001 pre-authorised €50.00 (receipt 7, trace 1007)" in text["terminal"]
    assert "Terminal booked €5.00 (receipt 7)" in text["terminal_capture"]
    assert "cost €6.25, recomputed €6.25" in text["report"]
    assert "captured €5.00, computed €6.25 resolved by olga: driver agreed" in text["resolution"]
    assert "2026-03-02 10:45:00 Refund of €1.00 by olga (instructed): late start" in text["refund"]
    browser.save_screenshot(str(shots_dir(tmp_path) / "ops-session-trail.png"))

    browser.get(f"{b.url}/ops/sessions/{_pk(b, 'S-QR-1')}?lang=de")
    qr = _timeline(browser)
    assert [k for k, _t in qr] == [
        "tariff", "link", "link_authorized", "start", "gateway", "end", "gateway_capture",
        "released", "report",
    ]  # fmt: skip
    text = {k: t.replace("\u00a0", " ") for k, t in qr}
    assert "Reservierung über 50,00 € auf der Zahlseite freigegeben" in text["link_authorized"]
    assert "Laden beendet, Zähler bei 110000 Wh (10,000 kWh)" in text["end"]
    assert "sandbox zog 6,25 € ein" in text["gateway_capture"]
