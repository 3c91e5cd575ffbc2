"""A QR session end to end: the kiosk asks the real backend for a link, a real headless
chromium pays it on the pay page, the kiosk's long-poll sees `authorized`, charging runs on the
simulated car, the report goes out through the outbox and the backend captures exactly the
kiosk's cost; reconciliation is clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from drivers.station import BackendAccess
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart, ChooseConnector, ConfirmPrice, PayByQr, StopCharging
from tests.backend.test_pay_browser import browser, fill_and_pay, wait_for
from tests.e2e.rig import BackendProcess, Kiosk, kiosk

__all__ = ["browser"]  # the fixture, shared with the backend's browser tests

pytestmark = pytest.mark.needs_chromium


def pay_link_in_browser(k: Kiosk, driver: WebDriver) -> str:
    focus = k.snap.focus
    assert focus is not None and focus.payment_link is not None
    driver.get(focus.payment_link.url)
    fill_and_pay(driver, "4242 4242 4242 4242")
    assert wait_for(driver, "heading").text == "Payment approved"
    return focus.payment_link.url


def test_qr_session_paid_in_a_browser_is_captured_for_the_kiosk_cost(
    backend: BackendProcess, access: BackendAccess, workdir: Path, browser: WebDriver
) -> None:
    with kiosk(workdir, access, hold=3000) as k:
        assert k.snap.qr_available
        k.station.sims["1"].plug_in(soc=0.3)
        k.advance(2)
        k.send(ChooseConnector("1"))
        sid = k.focus_id()
        k.send(ConfirmPrice(sid))
        k.send(PayByQr(sid))
        k.advance(1)
        assert k.snap.focus is not None and k.snap.focus.phase is Phase.PAYING_QR
        pay_link_in_browser(k, browser)
        for _ in range(30):  # the long-poll answers as soon as the backend knows
            k.advance(1)
            if k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING:
                break
        assert k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING
        k.advance(600, step=10)
        k.send(StopCharging(sid))
        k.advance(5)
        receipt = k.snap.focus.receipt if k.snap.focus else None
        assert receipt is not None and receipt.total.minor > 0
        k.send(BackToStart(sid))
        k.advance(2)
        assert k.snap.reporting is not None and k.snap.reporting.outbox_queued == 0
        day = k.clock.now()
    (stored,) = [s for s in backend.sessions() if s["session_id"] == sid]
    assert stored["payment_method"] == "link"
    assert stored["reported_minor"] == stored["computed_minor"] == receipt.total.minor
    with backend.api() as api:
        answer = api.get(f"/sessions/{sid}").json()
    assert answer["payment_status"] == "captured" and answer["link_status"] == "captured"
    assert answer["captured"] == receipt.total.minor
    assert answer["released"] == 3000 - receipt.total.minor
    report = backend.reconciliation(day)
    assert report["clean"] is True, report
