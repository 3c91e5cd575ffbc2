"""A kiosk process for the QR power-cut drill: `qr_station.py DIR URL TOKEN MODE KILL_AFTER`.

MODE "run" drives one QR session (link, paid on the pay page, charging, stop, report) and,
with KILL_AFTER = n > 0, SIGKILLs itself right after the journal's n-th commit: a power cut.
MODE "recover" starts on the same state (recovery runs), with the car still plugged in and the
meter still counting where it was, and lets time pass until nothing is open and the outbox is
empty. Prints what it saw as JSON.
"""

from __future__ import annotations

import http.client
import json
import sys
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drivers.station import BackendAccess
from kiosk.session.names import Phase
from kiosk.snapshot import PayByQr
from tests.e2e.drill_station import (
    SavedClock,
    close_all,
    cut_power_after,
    nothing_open,
    pay,
    stop_and_leave,
)
from tests.e2e.rig import Kiosk, kiosk, now_utc


def pay_on_page(url: str) -> None:
    """The phone posts the card form. Plain HTTP to 127.0.0.1: http.client, as an httpx client
    would load the CA bundle first (a tenth of a second of CPU in every kiosk process)."""
    form = {"card_number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"}
    page = urlsplit(url)
    connection = http.client.HTTPConnection(page.netloc, timeout=30)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        target = f"{page.path}?{page.query}" if page.query else page.path
        connection.request("POST", target, urlencode(form), headers)
        connection.getresponse().read()
    finally:
        connection.close()


def run(k: Kiosk) -> None:
    sid = pay(k, PayByQr)
    k.advance(1)
    focus = k.snap.focus
    assert focus is not None and focus.payment_link is not None
    pay_on_page(focus.payment_link.url)
    for _ in range(30):
        k.advance(1)
        if k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING:
            break
    k.advance(60, step=10)
    stop_and_leave(k, sid)


def reported(k: Kiosk) -> bool:
    reporting = k.snap.reporting
    return nothing_open(k) and reporting is not None and not reporting.outbox_queued


def main() -> int:
    workdir, url, token, mode, kill = sys.argv[1:6]
    state = Path(workdir)
    saved = SavedClock(state, now_utc())
    prepare = cut_power_after(saved, int(kill))
    access = BackendAccess(url, token)
    with kiosk(state, access, hold=3000, clock=saved.clock, before_start=prepare) as k:
        k.advance(2)
        if mode == "run":
            run(k)
        else:
            close_all(k, rounds=120, leave=(Phase.RECEIPT,), stop_charging=True, done=reported)
        journal = k.station.runtime.journal
        out = {
            "commits": journal.commits,
            "open": len(journal.open_sessions()),
            "queued": k.snap.reporting.outbox_queued if k.snap.reporting else -1,
            "parked": k.snap.reporting.outbox_parked if k.snap.reporting else -1,
        }
        saved.save()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
