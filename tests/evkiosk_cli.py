"""`evkiosk ...` run in the test's own process: the same main(argv) the console script calls,
with its stdout, stderr and exit code captured as a child process would give them.

A fresh interpreter spends over a second importing SQLAlchemy and alembic before a backend
command starts; in-process the imports are paid once per test worker. A few tests per command
family still run the real entry point as a process (see tests/backend/test_cli.py).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass

from kiosk.cli.main import main


@dataclass(frozen=True)
class Ran:
    """What subprocess.run would report for the same command line."""

    returncode: int
    stdout: str
    stderr: str


@contextmanager
def _environ(extra: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _stdin(text: str | None) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.StringIO(text or "")  # like a child given stdin=DEVNULL or `input=`
    try:
        yield
    finally:
        sys.stdin = saved


def _exit_code(code: object) -> tuple[int, str]:
    """The status the interpreter would exit with for SystemExit(code), and what it prints."""
    if code is None:
        return 0, ""
    if isinstance(code, int):
        return code, ""
    return 1, f"{code}\n"


def evkiosk(*args: str, env: Mapping[str, str] | None = None, stdin: str | None = None) -> Ran:
    """Run `evkiosk ARGS...` in this process; `env` adds to the environment for the call."""
    out, err = io.StringIO(), io.StringIO()
    with _environ(env or {}), _stdin(stdin), redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors and --help
            code, message = _exit_code(exc.code)
            err.write(message)
    return Ran(code, out.getvalue(), err.getvalue())
