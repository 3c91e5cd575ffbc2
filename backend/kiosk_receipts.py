"""Receipt addresses a kiosk signed itself: `/r/k/{session id}/{signature}`.

A kiosk shows its receipt QR code as soon as the session ends, before its report may have
reached this service (it may be offline for days). It signs the session id with its own
receipt secret and sends the signature in the report (`cdr.kiosk_receipt.sig`). Once that
report is here, the address leads to the session's receipt page; before, and for any other
signature, it answers "not yet" without saying which (nothing to probe).
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from backend.models import ChargingSession
from backend.services import Services, services
from backend.web import _page

router = APIRouter(include_in_schema=False)

PENDING = {
    "en": (
        "Receipt not ready yet",
        "The charging station has not reported this session yet. Please try again later.",
    ),
    "de": (
        "Beleg noch nicht bereit",
        "Die Ladestation hat diesen Ladevorgang noch nicht gemeldet. Bitte später erneut "
        "versuchen.",
    ),
}


def _receipt_url(svc: Services, session_id: str, sig: str) -> str | None:
    with svc.db.session() as s:
        rows = s.scalars(
            select(ChargingSession).where(ChargingSession.session_id == session_id)
        ).all()
        for row in rows:
            mark = (row.cdr or {}).get("kiosk_receipt")
            expected = mark.get("sig") if isinstance(mark, dict) else None
            if isinstance(expected, str) and hmac.compare_digest(expected, sig):
                url = (row.response or {}).get("receipt_url")
                return url if isinstance(url, str) else None
    return None


@router.get("/r/k/{session_id}/{sig}", response_class=HTMLResponse)
async def kiosk_receipt(request: Request, session_id: str, sig: str) -> Response:
    url = await run_in_threadpool(_receipt_url, services(request), session_id[:64], sig[:64])
    if url is not None:
        return RedirectResponse(url, status_code=303)
    lang = "de" if request.headers.get("accept-language", "").lower().startswith("de") else "en"
    heading, message = PENDING[lang]
    page = _page(request, "status.html", 404, heading=heading, message=message, status="pending")
    page.headers["Retry-After"] = "300"
    return page
