"""The whole product as a driver and an operator meet it: the real `evkiosk run --simulate`
process (offscreen, its embedded backend, simulators speaking ZVT and Modbus) drives a card
session and a QR session through its real screens from a scenario file. The QR code is read
from a screenshot by an independent decoder (zbarimg) and paid from headless chromium like a
phone would; then the backend's reconciliation must show both sessions, at the kiosk's
amounts, and a clean day."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import require_executable

pytestmark = pytest.mark.needs_chromium
EVKIOSK = [sys.executable, "-m", "kiosk.cli.main"]


def _steps(*steps: str) -> str:
    return "\n".join(f"[[step]]\n{s}\n" for s in steps)


def _session(pay: str) -> list[str]:
    # QR is offered once the embedded backend answers, which a busy machine may take minutes for.
    return [
        'do = "wait_for"\npage = "idle"',
        'after = 1\ndo = "tap"\nbutton = "tile_1"',
        'do = "wait_for"\npage = "price"',
        'after = 1\ndo = "tap"\nbutton = "accept_price"',
        'do = "wait_for"\npage = "payment"',
        f'after = 1\ndo = "tap"\nbutton = "{pay}"\ntimeout = 240',
    ]


def _charge() -> list[str]:
    return [
        'after = 1\ndo = "plug"\nconnector = "1"',
        'do = "wait_for"\npage = "charging"',
        'after = 4\ndo = "tap"\nbutton = "stop"',
        'after = 1\ndo = "tap"\nbutton = "stop_yes"',
        'do = "wait_for"\npage = "receipt"',
        'after = 1\ndo = "unplug"\nconnector = "1"',
        'do = "tap"\nbutton = "done"',
    ]


# The card is presented by the terminal simulator; the QR link is paid by the test's browser
# while the scenario waits for the plug-in screen.
SCENARIO = 'name = "card and QR through the real app"\n\n' + _steps(
    'do = "card"\noutcome = "approve"',
    *_session("pay_card"),
    'do = "wait_for"\npage = "plug"',
    *_charge(),
    *_session("pay_qr"),
    'do = "wait_for"\npage = "qr"',
    'after = 1\ndo = "screenshot"\nfile = "qr-screen.png"',
    'do = "wait_for"\npage = "plug"\ntimeout = 240',
    *_charge(),
    'do = "wait_for"\npage = "idle"',
)


@pytest.fixture
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
        "--window-size=390,844",  # a phone
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


def _until(what: str, check: Callable[[], Any], app: subprocess.Popen[str], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        assert app.poll() is None, f"the app exited ({app.returncode}) before {what}"
        time.sleep(0.5)
    pytest.fail(f"no {what} within {timeout:.0f} s")


def _log(log_file: Path) -> list[dict[str, Any]]:
    if not log_file.exists():
        return []
    return [json.loads(line) for line in log_file.read_text().splitlines() if line.strip()]


def _scenario_end(log_file: Path) -> str | None:
    for line in _log(log_file):
        if line["logger"] == "ui.scenario_player" and (
            line["msg"].endswith(": done") or " failed: " in line["msg"]
        ):
            return str(line["msg"])
    return None


def _reconcile(state: Path) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    done = subprocess.run(
        [
            *EVKIOSK,
            "backend",
            "reconcile",
            "--db",
            f"sqlite:///{state / 'backend.db'}",
            "--from",
            str(today - timedelta(days=1)),
            "--to",
            str(today + timedelta(days=1)),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _pay_in_browser(browser: WebDriver, url: str) -> None:
    from backend.texts import TEXTS

    # The page speaks the language the driver chose at the kiosk (the QR code carries it).
    t = TEXTS[parse_qs(urlparse(url).query).get("lang", ["en"])[0]]
    browser.get(url)
    assert "€" in browser.find_element(By.ID, "hold").text  # the price comes first
    fields = {t["card_number"]: "4242 4242 4242 4242", t["expiry"]: "12/30", t["cvc"]: "123"}
    for label_text, value in fields.items():
        label = browser.find_element(By.XPATH, f"//label[normalize-space()='{label_text}']")
        browser.find_element(By.ID, label.get_attribute("for") or "").send_keys(value)
    browser.find_element(By.XPATH, f"//button[normalize-space()='{t['pay']}']").click()
    heading = WebDriverWait(browser, 30).until(
        expected_conditions.presence_of_element_located((By.ID, "heading"))
    )
    assert heading.text == t["authorized"].split("|")[0]


def test_card_and_qr_sessions_through_the_real_app_reconcile_clean(
    tmp_path: Path, browser: WebDriver
) -> None:
    zbarimg = require_executable("zbarimg", package="zbar-tools")
    state, shots, log_file = tmp_path / "state", tmp_path / "shots", tmp_path / "kiosk.log"
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO)
    app = subprocess.Popen(
        [
            *EVKIOSK,
            "run",
            "--simulate",
            "--state",
            str(state),
            "--screenshots",
            str(shots),
            "--screenshot-every",
            "60",
            "--scenario",
            str(scenario),
            "--keep-open",  # the embedded backend lives as long as the app
            "--log-format",
            "json",
            "--log-file",
            str(log_file),
        ],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        shot = shots / "qr-screen.png"
        _until("QR screenshot", shot.exists, app, 240)
        time.sleep(0.5)  # the PNG is written by the app; let it finish
        decoded = subprocess.run(
            [zbarimg, "--quiet", "--raw", str(shot)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
        assert decoded.startswith("http://127.0.0.1:") and "/pay/pl_" in decoded, decoded

        _pay_in_browser(browser, decoded)

        end = _until("end of the scenario", lambda: _scenario_end(log_file), app, 240)
        assert end.endswith(": done"), end

        def both_reported() -> dict[str, Any] | None:
            report = _reconcile(state)
            sessions = sum(day["sessions"] for day in report["days"])
            return report if sessions == 2 else None

        report = _until("both sessions in the backend", both_reported, app, 120)
    finally:
        app.send_signal(signal.SIGTERM)
        _, err = app.communicate(timeout=60)
    assert app.returncode == 0, err[-2000:]

    # The kiosk's own figures, from its journal.
    journal = sqlite3.connect(state / "journal.db")
    kiosk = {
        sid: json.loads(state_json)
        for sid, state_json in journal.execute("SELECT session_id, state_json FROM sessions")
    }
    journal.close()
    assert sorted(s["auth"]["method"] for s in kiosk.values()) == ["card", "qr"]
    assert all(s["closed"] and s["cost_minor"] > 0 for s in kiosk.values())
    qr = next(s for s in kiosk.values() if s["auth"]["method"] == "qr")
    # the code on screen was this session's link (in the language the driver chose)
    assert urlparse(decoded).path.endswith(qr["auth"]["link_id"])

    # The backend's figures: each session once, at the kiosk's amount, computed the same.
    backend = sqlite3.connect(state / "backend.db")
    stored = {
        sid: (reported, computed, method)
        for sid, reported, computed, method in backend.execute(
            "SELECT session_id, reported_minor, computed_minor, payment_method FROM sessions"
        )
    }
    backend.close()
    backend_method = {"card": "card", "qr": "link"}  # the backend calls a QR payment a link
    assert stored == {
        sid: (s["cost_minor"], s["cost_minor"], backend_method[s["auth"]["method"]])
        for sid, s in kiosk.items()
    }
    total = sum(s["cost_minor"] for s in kiosk.values())
    (day,) = [d for d in report["days"] if d["sessions"]]
    assert (day["sessions"], day["computed"], day["captured"]) == (2, total, total), day
    assert report["clean"] and day["clean"] and day["discrepancies"] == []
    # No card number of either card in the kiosk's log or journal: at most the masked PAN.
    card_numbers = re.compile(r"(?:541333|424242)[0-9]{7,13}")
    for text in (log_file.read_text(), (state / "journal.db").read_bytes().decode("latin-1")):
        assert card_numbers.search(text) is None
