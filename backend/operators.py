"""Operator accounts and their sign-in sessions: argon2id password hashes, roles, server-side
sessions with a CSRF token each, and a limit on failed sign-ins.

Station API keys are a different kind of credential and never sign anybody in here.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from backend.db import Database
from backend.models import AuditEvent, LoginFailure, Operator, OperatorSession

ROLES = ("viewer", "operator", "admin")
_RANK = {role: n for n, role in enumerate(ROLES)}
USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
MIN_PASSWORD = 12
SESSION_LIFETIME = timedelta(hours=12)
# Failed sign-ins counted over this window; at the limit, sign-in is refused until they age.
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user name is unknown, so both answers take the same time.
    Made on first use: hashing costs time and memory a starting worker should not spend."""
    return _hasher.hash(secrets.token_urlsafe(16))


class OperatorError(ValueError):
    """Unusable account data; the message names the field."""


@dataclass(frozen=True)
class SignedIn:
    """Who a request belongs to."""

    operator_id: int
    username: str
    role: str
    language: str
    csrf_token: str

    def may(self, role: str) -> bool:
        return _RANK[self.role] >= _RANK[role]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def audit(
    db: Database, now: datetime, actor: str, action: str, subject: str, **detail: object
) -> None:
    with db.session() as s:
        s.add(AuditEvent(at=now, actor=actor, action=action, subject=subject, detail=detail))


def add_operator(
    db: Database,
    now: datetime,
    username: str,
    password: str,
    *,
    role: str,
    language: str = "en",
    actor: str = "cli",
) -> int:
    if not USERNAME.fullmatch(username):
        raise OperatorError("username: 1 to 64 letters, digits or . _ @ -")
    if role not in ROLES:
        raise OperatorError(f"role: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise OperatorError(f"password: at least {MIN_PASSWORD} characters")
    if language not in ("de", "en"):
        raise OperatorError("language: de or en")
    row = Operator(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        language=language,
        disabled=False,
        created_at=now,
    )
    try:
        with db.session() as s:
            s.add(row)
    except IntegrityError:
        raise OperatorError(f"username: {username!r} already exists") from None
    audit(db, now, actor, "operator_added", f"operator:{username}", role=role)
    return row.id


class LoginRefused(Exception):
    """Wrong name or password (one answer for both), or too many failures: `throttled`."""

    def __init__(self, throttled: bool) -> None:
        super().__init__("too many failed sign-ins" if throttled else "wrong name or password")
        self.throttled = throttled


def _throttled(db: Database, username: str, client: str, now: datetime) -> bool:
    since = now - FAILURE_WINDOW
    with db.read() as s:
        by_user = s.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.username == username, LoginFailure.at >= since)
        )
        by_client = s.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.client == client, LoginFailure.at >= since)
        )
    return (by_user or 0) >= MAX_FAILURES_PER_USER or (by_client or 0) >= MAX_FAILURES_PER_CLIENT


def log_in(db: Database, now: datetime, username: str, password: str, client: str) -> str:
    """A new session token for the cookie, or LoginRefused."""
    username, client = username[:64], client[:64]
    if _throttled(db, username, client, now):
        raise LoginRefused(throttled=True)
    with db.read() as s:
        op = s.scalar(select(Operator).where(Operator.username == username))
    ok = False
    try:
        ok = _hasher.verify(op.password_hash if op else _dummy_hash(), password) and op is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or op is None or op.disabled:
        with db.session() as s:
            # Failures older than the window count for nothing: drop them as new ones come.
            s.execute(delete(LoginFailure).where(LoginFailure.at < now - FAILURE_WINDOW))
            s.add(LoginFailure(username=username, client=client, at=now))
        raise LoginRefused(throttled=False)
    token = secrets.token_urlsafe(32)
    with db.session() as s:
        s.add(
            OperatorSession(
                token_hash=_token_hash(token),
                operator_id=op.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
                ended_at=None,
            )
        )
        # A successful sign-in clears this user's failures (not the client's).
        s.execute(delete(LoginFailure).where(LoginFailure.username == username))
        if _hasher.check_needs_rehash(op.password_hash):
            s.execute(
                update(Operator)
                .where(Operator.id == op.id)
                .values(password_hash=_hasher.hash(password))
            )
    audit(db, now, username, "login", f"operator:{username}", client=client)
    return token


def signed_in(db: Database, token: str | None, now: datetime) -> SignedIn | None:
    if not token or len(token) > 128:
        return None
    with db.read() as s:
        row = s.execute(
            select(OperatorSession, Operator)
            .join(Operator, Operator.id == OperatorSession.operator_id)
            .where(OperatorSession.token_hash == _token_hash(token))
        ).first()
    if row is None:
        return None
    sess, op = row
    if sess.ended_at is not None or sess.expires_at <= now or op.disabled:
        return None
    return SignedIn(op.id, op.username, op.role, op.language, sess.csrf_token)


def log_out(db: Database, token: str, now: datetime) -> None:
    with db.session() as s:
        s.execute(
            update(OperatorSession)
            .where(
                OperatorSession.token_hash == _token_hash(token), OperatorSession.ended_at.is_(None)
            )
            .values(ended_at=now)
        )


def csrf_matches(user: SignedIn, presented: str | None) -> bool:
    return bool(presented) and secrets.compare_digest(user.csrf_token, presented or "")
