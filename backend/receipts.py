"""Receipt tokens: `/r/{token}` where the token is a random receipt id plus an HMAC of it.

The id alone is already unguessable; the MAC (server secret kept in the database) means a token
cannot be made up even by someone who learns how ids are formed, and lets the page refuse a
forged token before touching the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_NAME = "receipt_hmac_key"  # noqa: S105 (the name of a secret, not a secret)


def new_receipt_id() -> str:
    return secrets.token_urlsafe(12)


def _mac(secret: str, receipt_id: str) -> str:
    digest = hmac.new(secret.encode(), receipt_id.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_for(secret: str, receipt_id: str) -> str:
    return f"{receipt_id}.{_mac(secret, receipt_id)}"


def receipt_id_of(secret: str, token: str) -> str | None:
    """The receipt id of a genuine token, else None."""
    receipt_id, sep, mac = token.partition(".")
    if not sep or not receipt_id or len(token) > 100:
        return None
    return receipt_id if hmac.compare_digest(mac, _mac(secret, receipt_id)) else None
