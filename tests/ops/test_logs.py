"""Logging: the session id on every line (text and JSON), card data never written."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.logs import luhn_ok, scrub_card_data, session_context, setup_logging, under_journald

PAN = "4111111111111111"
TRACK2 = ";4111111111111111=29122011234567890?"


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("evkiosk.test")
    log.propagate = False
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    log.propagate = True


def _capture(logger: logging.Logger, fmt: str = "text") -> io.StringIO:
    stream = io.StringIO()
    setup_logging(fmt=fmt, stream=stream, journald=False, logger=logger)  # type: ignore[arg-type]
    return stream


def test_session_id_on_every_line_text(logger: logging.Logger) -> None:
    stream = _capture(logger)
    logger.info("idle")
    with session_context("S-42"):
        logger.info("price shown")
        logging.getLogger("evkiosk.test.child").warning("meter slow")
    logger.info("idle again")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4  # a child logger's line passes through the same handler
    assert "[-] idle" in lines[0]
    assert "[S-42] price shown" in lines[1]
    assert "evkiosk.test.child [S-42] meter slow" in lines[2]
    assert "[-] idle again" in lines[3]


def test_session_id_is_per_thread(logger: logging.Logger) -> None:
    stream = _capture(logger, "json")

    def other() -> None:
        logger.info("from the terminal thread")

    with session_context("S-1"):
        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
        logger.info("from the machine thread")
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["msg"], e["session"]) for e in entries] == [
        ("from the terminal thread", "-"),
        ("from the machine thread", "S-1"),
    ]
    assert all({"ts", "level", "logger", "thread"} <= e.keys() for e in entries)


def test_pan_and_track2_never_reach_the_log(logger: logging.Logger, tmp_path: Path) -> None:
    log_file = tmp_path / "kiosk.log"
    setup_logging(fmt="json", log_file=log_file, logger=logger, journald=False)
    with session_context("S-7"):
        logger.info("card %s read, track %s", PAN, TRACK2)
        logger.warning("spaced %s", "4111 1111 1111 1111")
        try:
            raise ValueError(f"terminal sent {TRACK2} and {PAN}")
        except ValueError:
            logger.exception("decode failed")
    text = log_file.read_text()
    assert PAN not in text and "4111 1111 1111 1111" not in text
    assert "=2912" not in text
    assert "411111******1111" in text
    entries = [json.loads(line) for line in text.splitlines()]
    assert all(e["session"] == "S-7" for e in entries)
    assert "ValueError" in entries[-1]["exc"]


def test_rotation(logger: logging.Logger, tmp_path: Path) -> None:
    log_file = tmp_path / "kiosk.log"
    setup_logging(log_file=log_file, max_bytes=2000, backups=2, logger=logger, journald=False)
    for n in range(200):
        logger.info("line %d %s", n, "x" * 40)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["kiosk.log", "kiosk.log.1", "kiosk.log.2"]


def test_journald_lines_carry_a_priority(logger: logging.Logger) -> None:
    stream = io.StringIO()
    setup_logging(stream=stream, journald=True, logger=logger)  # type: ignore[arg-type]
    logger.error("meter offline")
    assert stream.getvalue().startswith("<3>ERROR evkiosk.test [-] meter offline")


def test_under_journald_matches_the_stream(tmp_path: Path) -> None:
    with open(tmp_path / "err", "w") as fh:
        import os

        info = os.fstat(fh.fileno())
        assert under_journald(fh, {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"})
        assert not under_journald(fh, {"JOURNAL_STREAM": "1:2"})
        assert not under_journald(fh, {})


def test_masks_are_not_masked_again_and_plain_numbers_stay() -> None:
    text = "pan 541333******1234 amount 5000 receipt 231 trace 975 at 2026-03-02T09:00:00"
    assert scrub_card_data(text) == text
    assert scrub_card_data("order 1234567890123") == "order 1234567890123"  # fails Luhn


def _with_check_digit(body: str) -> str:
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError


@settings(max_examples=80, deadline=None)
@given(
    body=st.text("0123456789", min_size=12, max_size=18),
    before=st.text(st.characters(blacklist_categories=("Nd",)), max_size=20),
    after=st.text(st.characters(blacklist_categories=("Nd",)), max_size=20),
    expiry=st.text("0123456789", min_size=4, max_size=12),
)
def test_any_card_number_is_masked(body: str, before: str, after: str, expiry: str) -> None:
    pan = _with_check_digit(body)
    for planted in (pan, f";{pan}={expiry}?", f"{pan}D{expiry}"):
        out = scrub_card_data(before + planted + after)
        assert pan not in out
        # At most first 6 and last 4 survive; the expiry and discretionary data never do.
        assert sum(ch in "0123456789" for ch in out) <= 10, out


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("WARNING", False), ("DEBUG", True)])
def test_request_lines_of_http_libraries_only_at_debug(
    logger: logging.Logger, level: str, shown: bool
) -> None:
    # The backend probe runs every few seconds: httpx's INFO line per request would fill the
    # log of a healthy station; its warnings still show.
    setup_logging(stream=io.StringIO(), journald=False, logger=logger, level=level)
    try:
        for name in ("httpx", "httpcore"):
            chatty = logging.getLogger(name)
            assert chatty.isEnabledFor(logging.INFO) is shown
            assert chatty.isEnabledFor(logging.WARNING)
    finally:
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.NOTSET)
