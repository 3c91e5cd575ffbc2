"""An admin's work on operator accounts: list them, change a role, disable or enable one.

Every change is audited with who made it. The last enabled admin can be neither disabled nor
given a lower role, so the pages always keep someone who can manage accounts. A disabled
account's sessions stop working at once (operators.signed_in reads the account each request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db import Database
from backend.models import Operator
from backend.operators import ROLES, OperatorError, audit


class LastAdmin(OperatorError):
    """The change would leave no enabled admin."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: str
    language: str
    disabled: bool
    created_at: datetime


def accounts(db: Database) -> list[Account]:
    with db.read() as s:
        rows = s.scalars(select(Operator).order_by(Operator.username)).all()
    return [Account(o.id, o.username, o.role, o.language, o.disabled, o.created_at) for o in rows]


def _target(s: Session, username: str) -> Operator:
    op = s.scalar(select(Operator).where(Operator.username == username))
    if op is None:
        raise OperatorError(f"username: no operator {username!r}")
    return op


def _keeps_an_admin(s: Session, op: Operator) -> None:
    """Refuse when `op` is the only enabled admin. The admin rows are locked first (PostgreSQL;
    SQLite writes one at a time), so two admins cannot disable each other at the same moment."""
    admins = s.scalars(
        select(Operator.id)
        .where(Operator.role == "admin", Operator.disabled.is_(False))
        .with_for_update()
    ).all()
    if op.role == "admin" and not op.disabled and len(admins) <= 1:
        raise LastAdmin(f"username: {op.username} is the last admin")


def set_role(db: Database, now: datetime, actor: str, username: str, role: str) -> None:
    if role not in ROLES:
        raise OperatorError(f"role: one of {', '.join(ROLES)}")
    with db.session() as s:
        op = _target(s, username)
        before = op.role
        if before == role:
            return
        if before == "admin":
            _keeps_an_admin(s, op)
        op.role = role
    audit(db, now, actor, "operator_role", f"operator:{username}", role=role, before=before)


def set_disabled(db: Database, now: datetime, actor: str, username: str, disabled: bool) -> None:
    with db.session() as s:
        op = _target(s, username)
        if op.disabled == disabled:
            return
        if disabled:
            _keeps_an_admin(s, op)
        op.disabled = disabled
    action = "operator_disabled" if disabled else "operator_enabled"
    audit(db, now, actor, action, f"operator:{username}")
