"""The receipt screen's QR code: a kiosk-signed address while the report has not arrived, the
backend's receipt page once it has; the signed address then shows the receipt, a forged one
never."""

from __future__ import annotations

from pathlib import Path

import httpx

from drivers.station import BackendAccess
from kiosk.session.names import Phase
from kiosk.snapshot import ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.faultproxy import FaultProxy
from tests.e2e.rig import BackendProcess, kiosk


def test_receipt_qr_is_signed_before_the_report_and_the_backends_page_after(
    backend: BackendProcess, workdir: Path
) -> None:
    with FaultProxy(backend.url) as proxy:
        proxy.mode = "down"
        with kiosk(workdir, BackendAccess(proxy.url, backend.token), hold=3000) as k:
            k.station.sims["1"].plug_in(soc=0.3)
            k.advance(2)
            k.send(ChooseConnector("1"))
            sid = k.focus_id()
            k.send(ConfirmPrice(sid))
            k.send(PayByCard(sid))
            k.advance(120, step=10)
            k.send(StopCharging(sid))
            k.advance(5)
            focus = k.snap.focus
            assert focus is not None and focus.phase is Phase.RECEIPT and focus.receipt
            signed = focus.receipt.receipt_url
            assert signed is not None and signed.startswith(f"{proxy.url}/r/k/{sid}/")
            direct = signed.replace(proxy.url, backend.url)
            early = httpx.get(direct, follow_redirects=False)
            assert early.status_code == 404 and "yet" in early.text  # not reported yet

            proxy.mode = "ok"
            k.advance(40, step=5)  # the outbox delivers; the receipt screen is still up
            focus = k.snap.focus
            assert focus is not None and focus.receipt is not None
            page = focus.receipt.receipt_url
            assert page is not None and "/r/" in page and "/r/k/" not in page
    late = httpx.get(direct)  # the same address now shows the receipt
    assert late.status_code == 200 and sid in late.text
    receipt_page = httpx.get(page)
    assert receipt_page.status_code == 200 and sid in receipt_page.text
    forged = httpx.get(direct[:-4] + "AAAA")
    assert forged.status_code == 404
