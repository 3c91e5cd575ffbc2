"""Logging for the kiosk: text or JSON lines, the session id on every line, card data scrubbed.

Call `setup_logging` once at start-up. While the runtime works on a session it wraps the work
in `session_context(session_id)`; every line logged meanwhile (on that thread) carries the id.
`CardDataFilter` sits on every handler as the last line of defence: whatever a driver or a
library logs, a card number (13-19 digits passing Luhn) is cut to first 6 / last 4 and track
data is removed before anything is written.

Destinations: a rotating file (RotatingFileHandler) when a log file is given; under systemd
(stderr connected to the journal) plain lines with the syslog priority prefix journald reads;
otherwise stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import logging.handlers
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, Literal, TextIO

LogFormat = Literal["text", "json"]
NO_SESSION = "-"
_HANDLER_NAME = "evkiosk"

current_session: ContextVar[str | None] = ContextVar("evkiosk_session", default=None)


@contextlib.contextmanager
def session_context(session_id: str | None) -> Iterator[None]:
    """Every log line inside this block (on this thread or task) names the session."""
    token = current_session.set(session_id)
    try:
        yield
    finally:
        current_session.reset(token)


class SessionFilter(logging.Filter):
    """Adds `record.session_id` from the context (or the record's own `extra`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "session_id", None):
            record.session_id = current_session.get() or NO_SESSION
        return True


# ------------------------------------------------------------------------ card data

# Track 1 (%B...^NAME^...?) and track 2 (;PAN=YYMM...? or EMV tag 57's "D" separator).
_TRACK1 = re.compile(r"%?B\d{12,19}\^[^^\n]{0,26}\^[0-9]{4,}[^?\s]*\??", re.ASCII)
_TRACK2 = re.compile(r";?(?<![0-9])\d{12,19}[=Dd]\d{4,}[0-9A-Fa-f]*\??", re.ASCII)
# Digit runs, optionally grouped by single spaces or dashes as printed on cards.
_DIGITS = re.compile(r"(?<![0-9])\d(?:[ -]?\d){12,}(?![0-9])", re.ASCII)
_TRACK_REMOVED = "[track data removed]"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _mask(digits: str) -> str:
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"


def _looks_like_pan(digits: str) -> bool:
    if 13 <= len(digits) <= 19:
        return luhn_ok(digits)
    # A longer run may hide a card number glued to other digits: mask the run if any
    # 13-19 digit window in it passes Luhn (a last line of defence may over-mask).
    return any(
        luhn_ok(digits[i : i + n]) for n in range(13, 20) for i in range(len(digits) - n + 1)
    )


def _scrub_run(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    if not _looks_like_pan(digits):
        return match.group(0)
    return _mask(digits) if len(digits) <= 19 else "[card number removed]"


def scrub_card_data(text: str) -> str:
    """Mask every card number and remove track data in `text`."""
    if not any("0" <= ch <= "9" for ch in text):
        return text
    text = _TRACK1.sub(_TRACK_REMOVED, text)
    text = _TRACK2.sub(_TRACK_REMOVED, text)
    return _DIGITS.sub(_scrub_run, text)


class CardDataFilter(logging.Filter):
    """Rewrites the record's message (and exception text) with card data scrubbed."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must still not leak its arguments
            message = f"{record.msg!s} {record.args!r}"
        record.msg = scrub_card_data(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_card_data(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub_card_data(record.stack_info)
        return True


# ------------------------------------------------------------------------ formats

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(session_id)s] %(message)s"
JOURNALD_FORMAT = "%(levelname)s %(name)s [%(session_id)s] %(message)s"  # journald stamps time


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, session, msg (+ exc, thread)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "session": getattr(record, "session_id", NO_SESSION),
            "msg": record.getMessage(),
            "thread": record.threadName,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class JournaldPrefixFormatter(logging.Formatter):
    """`<N>` syslog priority in front: journald reads it from a service's stderr."""

    _PRIORITY: ClassVar[dict[str, int]] = {
        "CRITICAL": 2,
        "ERROR": 3,
        "WARNING": 4,
        "INFO": 6,
        "DEBUG": 7,
    }

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        text = self._inner.format(record)
        prefix = f"<{self._PRIORITY.get(record.levelname, 6)}>"
        return "\n".join(prefix + line for line in text.splitlines())


def under_journald(stream: TextIO | None = None, env: Mapping[str, str] | None = None) -> bool:
    """True when `stream` (stderr) is connected to systemd's journal ($JOURNAL_STREAM)."""
    env = os.environ if env is None else env
    value = env.get("JOURNAL_STREAM", "")
    if ":" not in value:
        return False
    stream = stream or sys.stderr
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    dev, _, ino = value.partition(":")
    return f"{info.st_dev}:{info.st_ino}" == f"{dev}:{ino}"


def setup_logging(
    *,
    fmt: LogFormat = "text",
    level: int | str = logging.INFO,
    log_file: Path | None = None,
    max_bytes: int = 5_000_000,
    backups: int = 5,
    stream: TextIO | None = None,
    journald: bool | None = None,
    logger: logging.Logger | None = None,
) -> logging.Handler:
    """Install one handler on `logger` (the root logger) and return it.

    Replaces handlers an earlier call installed, so calling it twice does not double lines.
    """
    target = logger or logging.getLogger()
    for old in [h for h in target.handlers if h.get_name() == _HANDLER_NAME]:
        target.removeHandler(old)
        old.close()
    stream = stream or sys.stderr
    on_journal = under_journald(stream) if journald is None else journald
    handler: logging.Handler
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    else:
        handler = logging.StreamHandler(stream)
    formatter: logging.Formatter
    if fmt == "json":
        formatter = JsonFormatter()
    elif on_journal and log_file is None:
        formatter = logging.Formatter(JOURNALD_FORMAT)
    else:
        formatter = logging.Formatter(TEXT_FORMAT)
    if on_journal and log_file is None:
        formatter = JournaldPrefixFormatter(formatter)
    handler.setFormatter(formatter)
    # Order matters: the session id first, then the scrubber sees the final message.
    handler.addFilter(SessionFilter())
    handler.addFilter(CardDataFilter())
    handler.set_name(_HANDLER_NAME)
    target.addHandler(handler)
    target.setLevel(level)
    quiet_libraries(level)
    return handler


# Libraries that log every request at INFO: the backend probe alone would write a line every
# few seconds. Their lines appear at DEBUG; their warnings and errors always.
CHATTY_LIBRARIES = ("httpx", "httpcore", "websockets")


def quiet_libraries(level: int | str) -> None:
    number = level if isinstance(level, int) else logging.getLevelName(level.upper())
    debug = isinstance(number, int) and number <= logging.DEBUG
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)


def add_logging_arguments(parser: argparse.ArgumentParser, default_level: str = "INFO") -> None:
    """--log-format, --log-level, --log-file for commands that run for long."""
    group = parser.add_argument_group("logging")
    group.add_argument("--log-format", choices=("text", "json"), default="text")
    group.add_argument(
        "--log-level",
        default=default_level,
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
    )
    group.add_argument(
        "--log-file",
        type=Path,
        default=None,
        help="write to this file, rotated at 5 MB, 5 kept (default: stderr / the journal)",
    )


def setup_from_arguments(args: argparse.Namespace) -> logging.Handler:
    return setup_logging(fmt=args.log_format, level=args.log_level, log_file=args.log_file)
