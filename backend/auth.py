"""Station API keys: shown once, stored as a hash, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Station

KEY_PREFIX = "evk"


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    key_hash: str
    plaintext: str  # handed to the operator once; never stored


def _hash(secret: str) -> str:
    # The secret has 256 bits of entropy: a plain SHA-256 cannot be brute-forced, and a slow
    # password hash would only cost every API call time.
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_secret(secret: str) -> str:
    return _hash(secret)


def issue_key() -> IssuedKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return IssuedKey(key_id, _hash(secret), f"{KEY_PREFIX}_{key_id}_{secret}")


def split_key(presented: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed key, else None."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 16:
        return None
    return parts[1], parts[2]


def secret_matches(secret: str, key_hash: str) -> bool:
    return hmac.compare_digest(_hash(secret), key_hash)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def station_of(s: Session, authorization: str | None) -> str | None:
    """The id of the station an `Authorization: Bearer` header names, read in the caller's
    transaction (a rotated key stops working at once), or None."""
    parts = key_parts(authorization)
    if parts is None:
        return None
    key_id, secret = parts
    row = s.execute(select(Station.id, Station.key_hash).where(Station.key_id == key_id)).first()
    if row is None or not secret_matches(secret, row.key_hash):
        return None
    return str(row.id)


def key_parts(authorization: str | None) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed `Authorization: Bearer` station key, else None."""
    token = bearer_token(authorization)
    return split_key(token) if token else None
