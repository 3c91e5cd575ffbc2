"""QR drills: a link paid on the phone while the kiosk cannot reach the backend. If the
backend comes back in time the kiosk picks the payment up and charges; if the kiosk gave up
first, its queued cancel releases the driver's hold as soon as the backend answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from drivers.station import BackendAccess
from kiosk.session.names import Phase
from kiosk.snapshot import (
    BackToStart,
    ChooseConnector,
    ConfirmPrice,
    PayByQr,
    StopCharging,
)
from tests.backend.test_pay_browser import browser, fill_and_pay, wait_for
from tests.e2e.faultproxy import FaultProxy
from tests.e2e.rig import BackendProcess, Kiosk, kiosk

__all__ = ["browser"]

pytestmark = pytest.mark.needs_chromium


def qr_link(k: Kiosk) -> tuple[str, str]:
    k.station.sims["1"].plug_in(soc=0.3)
    k.advance(2)
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    k.send(ConfirmPrice(sid))
    k.send(PayByQr(sid))
    k.advance(1)
    focus = k.snap.focus
    assert focus is not None and focus.payment_link is not None
    return sid, focus.payment_link.url


def pay(driver: WebDriver, url: str) -> None:
    driver.get(url)
    fill_and_pay(driver, "4242 4242 4242 4242")
    assert wait_for(driver, "heading").text == "Payment approved"


def link_status(backend: BackendProcess, url: str) -> str:
    with backend.api() as api:
        return str(api.get(f"/payment-links/{url.rsplit('/', 1)[-1]}").json()["status"])


def test_link_paid_while_offline_is_picked_up_when_the_backend_answers_again(
    backend: BackendProcess, workdir: Path, browser: WebDriver
) -> None:
    with (
        FaultProxy(backend.url) as proxy,
        kiosk(workdir, BackendAccess(proxy.url, backend.token), hold=3000) as k,
    ):
        sid, url = qr_link(k)
        proxy.mode = "down"
        pay(browser, url)  # the phone has its own network
        k.advance(30, step=5)
        assert k.snap.focus is not None and k.snap.focus.phase is Phase.PAYING_QR
        assert k.snap.qr_available is False
        proxy.mode = "ok"
        for _ in range(40):
            k.advance(1)
            if k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING:
                break
        assert k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING
        k.advance(120, step=10)
        k.send(StopCharging(sid))
        k.advance(5)
        k.send(BackToStart(sid))
        k.advance(5)
        assert k.snap.reporting is not None and k.snap.reporting.outbox_queued == 0
        day = k.clock.now()
    assert link_status(backend, url) == "captured"
    assert backend.reconciliation(day)["clean"] is True
    print(f"\ndrill qr-paid-offline: picked_up=1 down_requests={proxy.seen['down']}")


def test_link_paid_after_the_kiosk_gave_up_offline_is_released_on_return(
    backend: BackendProcess, workdir: Path, browser: WebDriver
) -> None:
    with (
        FaultProxy(backend.url) as proxy,
        kiosk(workdir, BackendAccess(proxy.url, backend.token), hold=3000) as k,
    ):
        sid, url = qr_link(k)
        proxy.mode = "down"
        pay(browser, url)
        k.advance(16 * 60, step=60)  # past the link's expiry and grace on the kiosk
        focus = k.snap.focus
        assert focus is None or focus.phase is not Phase.PAYING_QR
        queued = k.station.runtime.journal.query(
            "SELECT kind FROM outbox WHERE delivered_at IS NULL"
        )
        assert ("link_cancel",) in queued
        assert link_status(backend, url) == "authorized"  # the hold is still on the card
        proxy.mode = "ok"
        k.advance(120, step=10)
        assert k.snap.reporting is not None and k.snap.reporting.outbox_queued == 0
        day = k.clock.now()
    assert link_status(backend, url) == "released"
    assert backend.reconciliation(day)["clean"] is True
    print(f"\ndrill qr-paid-after-kiosk-gave-up: released=1 sessions_charged=0 ({sid})")
