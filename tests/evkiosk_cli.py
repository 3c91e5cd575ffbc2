"""`evkiosk ...` run in the test's own process: the same main(argv) the console script calls,
with its stdout, stderr and exit code captured as a child process would give them.

A fresh interpreter spends over a second importing SQLAlchemy and alembic before a backend
command starts; in-process the imports are paid once per test worker. A few tests per command
family still run the real entry point as a process (see tests/backend/test_cli.py).
"""

from __future__ import annotations

import io
import logging
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
    """`extra` added for the call; whatever the command sets in its own process's environment
    (e.g. `run --vnc` picks the Qt platform) is undone afterwards."""
    saved = dict(os.environ)
    os.environ.update(extra)
    try:
        yield
    finally:
        for name in set(os.environ) - set(saved):
            del os.environ[name]
        for name, value in saved.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


@contextmanager
def _stdin(text: str | None) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.StringIO(text or "")  # like a child given stdin=DEVNULL or `input=`
    try:
        yield
    finally:
        sys.stdin = saved


class _LastResort(logging.Handler):
    """What a fresh process does with a WARNING or worse when nothing configured logging
    (logging.lastResort): the message, with its traceback if any, on stderr. In-process, the
    test runner's own handler on the root logger would otherwise take those records away."""

    def __init__(self, stream: io.StringIO) -> None:
        super().__init__(logging.WARNING)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        self.stream.write(self.format(record) + "\n")


@contextmanager
def _logging_to(stream: io.StringIO) -> Iterator[None]:
    """Route WARNING and worse to `stream` as a process would; levels a command sets for its
    own process (e.g. quieting pymodbus) are undone afterwards."""
    manager = logging.Logger.manager
    loggers = [logging.getLogger(), *manager.loggerDict.values()]
    levels = {lg: lg.level for lg in loggers if isinstance(lg, logging.Logger)}
    handler = _LastResort(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for lg, level in levels.items():
            lg.setLevel(level)


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
    with (
        _environ(env or {}),
        _stdin(stdin),
        redirect_stdout(out),
        redirect_stderr(err),
        _logging_to(err),
    ):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors and --help
            code, message = _exit_code(exc.code)
            err.write(message)
    return Ran(code, out.getvalue(), err.getvalue())
