"""The digital receipt's address, for the QR code on the receipt screen.

Once the session report is delivered, the backend's own receipt page (its answer names it).
Before that, a kiosk-signed address `{backend}/r/k/{session id}/{signature}`: the signature is
an HMAC of the session id under the station's receipt secret, carried in the session report,
so the backend opens that address once the report has arrived and not before; nobody can make
one up for another session.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from kiosk.journal.store import Journal, JournalError


def receipt_signature(secret: str, session_id: str) -> str:
    import hashlib  # noqa: PLC0415 (with hmac ~4 ms of CPU: at the first receipt, not at start)
    import hmac  # noqa: PLC0415

    digest = hmac.new(secret.encode(), f"receipt:{session_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


class ReceiptLinks:
    def __init__(self, journal: Journal, base_url: str, secret: str | None) -> None:
        self._journal = journal
        self._base = base_url.rstrip("/")
        self._secret = secret

    def url_for(self, session_id: str) -> str | None:
        try:
            rows = self._journal.query(
                "SELECT ack_json FROM outbox WHERE idempotency_key = ? "
                "AND delivered_at IS NOT NULL",
                (f"session:{session_id}",),
            )
        except JournalError:
            rows = []
        if rows and rows[0][0]:
            try:
                url = json.loads(rows[0][0]).get("receipt_url")
            except (ValueError, AttributeError):
                url = None
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                return url
        if self._secret is None:
            return None
        sig = receipt_signature(self._secret, session_id)
        return f"{self._base}/r/k/{quote(session_id, safe='')}/{sig}"
