"""Operator accounts from the command line (the same rules as the admin's page /ops/operators).

evkiosk backend operator add NAME --role viewer|operator|admin [--language de|en]
      (password from $EVKIOSK_OPERATOR_PASSWORD or asked for at the terminal)
evkiosk backend operator list
evkiosk backend operator disable NAME     (never the last admin)
evkiosk backend operator enable NAME
evkiosk backend operator role NAME ROLE   (never demotes the last admin)

Changes are audited with the actor "cli" (or --by NAME).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

EXIT_OK, EXIT_USAGE = 0, 2


def add_operator_arguments(sub: Any, db_arg: Callable[[argparse.ArgumentParser], None]) -> None:
    op = sub.add_parser("operator", help="operator accounts: add, list, disable, enable, role")
    acts = op.add_subparsers(dest="operator_action", metavar="ACTION", required=True)

    add = acts.add_parser("add", help="create an account")
    add.add_argument("username", metavar="NAME")
    add.add_argument("--role", choices=("viewer", "operator", "admin"), required=True)
    add.add_argument("--language", choices=("de", "en"), default="en")
    add.set_defaults(handler=_add)

    lst = acts.add_parser("list", help="every account with its role and state")
    lst.set_defaults(handler=_list)

    for name, helptext in (("disable", "disable an account"), ("enable", "enable it again")):
        p = acts.add_parser(name, help=helptext)
        p.add_argument("username", metavar="NAME")
        p.set_defaults(handler=_disable if name == "disable" else _enable)

    role = acts.add_parser("role", help="change an account's role")
    role.add_argument("username", metavar="NAME")
    role.add_argument("role", choices=("viewer", "operator", "admin"))
    role.set_defaults(handler=_role)

    for p in acts.choices.values():
        db_arg(p)
        p.add_argument("--by", default="cli", help="who makes the change (audited)")


def _run(args: argparse.Namespace, work: Callable[[Any, datetime], str]) -> int:
    from backend.db import Database  # noqa: PLC0415 (load on demand)
    from backend.operators import OperatorError  # noqa: PLC0415

    db = Database(args.db)
    try:
        db.migrate()
        print(work(db, datetime.now(UTC)))
    except OperatorError as exc:
        print(f"evkiosk backend: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        db.dispose()
    return EXIT_OK


def _add(args: argparse.Namespace) -> int:
    from backend.operators import add_operator  # noqa: PLC0415 (load on demand)

    password = os.environ.get("EVKIOSK_OPERATOR_PASSWORD") or getpass.getpass("Password: ")

    def work(db: Any, now: datetime) -> str:
        add_operator(
            db, now, args.username, password, role=args.role, language=args.language, actor=args.by
        )
        return f"operator {args.username} ({args.role}) added"

    return _run(args, work)


def _list(args: argparse.Namespace) -> int:
    from backend.operator_accounts import accounts  # noqa: PLC0415 (load on demand)

    def work(db: Any, _now: datetime) -> str:
        lines = [f"{'NAME':<24} {'ROLE':<9} LANG STATE"]
        for a in accounts(db):
            state = "disabled" if a.disabled else "active"
            lines.append(f"{a.username:<24} {a.role:<9} {a.language:<4} {state}")
        return "\n".join(lines)

    return _run(args, work)


def _set_disabled(args: argparse.Namespace, disabled: bool) -> int:
    from backend.operator_accounts import set_disabled  # noqa: PLC0415 (load on demand)

    def work(db: Any, now: datetime) -> str:
        set_disabled(db, now, args.by, args.username, disabled)
        return f"operator {args.username} {'disabled' if disabled else 'enabled'}"

    return _run(args, work)


def _disable(args: argparse.Namespace) -> int:
    return _set_disabled(args, True)


def _enable(args: argparse.Namespace) -> int:
    return _set_disabled(args, False)


def _role(args: argparse.Namespace) -> int:
    from backend.operator_accounts import set_role  # noqa: PLC0415 (load on demand)

    def work(db: Any, now: datetime) -> str:
        set_role(db, now, args.by, args.username, args.role)
        return f"operator {args.username} is now {args.role}"

    return _run(args, work)
