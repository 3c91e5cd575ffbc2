"""A hostile terminal sends a test PAN in clear in every field it can (drivers/zvt_sim/hostile.py):
as ASCII and BCD, in card-data fields, texts, receipt lines, known and unknown TLV tags (1F10)
and after an unknown BMP. A whole card session runs with the log at DEBUG; no log record, no
journal or outbox row, no file the kiosk or the backend wrote holds the PAN in any encoding."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from drivers.station import BackendAccess
from tests.e2e.rig import BackendProcess, Kiosk, kiosk

PAN = "4761739001010010"  # a well-known test card number (Luhn-valid)


def encodings(pan: str) -> list[str]:
    """The PAN as a log line might show it: digits (ASCII and BCD hex alike), ASCII as hex."""
    ascii_hex = pan.encode("ascii").hex()
    return [pan, ascii_hex, ascii_hex.upper()]


def assert_no_pan(text: str, where: str) -> None:
    flat = "".join(text.split())  # hex in logs is spaced: "47 61 73 ..."
    for form in encodings(PAN):
        assert form not in flat, f"the PAN ({form}) is in {where}"


def assert_no_pan_bytes(raw: bytes, where: str) -> None:
    for form in (PAN.encode("ascii"), bytes.fromhex(PAN)):
        assert form not in raw, f"the PAN ({form!r}) is in {where}"
    assert_no_pan(raw.decode("latin-1"), where)


def test_hostile_terminal_pan_reaches_no_log_journal_outbox_or_file(
    backend: BackendProcess,
    access: BackendAccess,
    workdir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    def hostile(k: Kiosk) -> None:
        assert k.station.terminal_sim is not None
        k.station.terminal_sim.set_hostile(PAN)

    with kiosk(workdir, access, hold=5000, before_start=hostile) as k:
        sid = k.charge_by_card(seconds=300)
        journal = k.station.runtime.journal
        tables = journal.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        for (table,) in tables:
            for row in journal.query(f"SELECT * FROM {table}"):
                assert_no_pan(" ".join(map(str, row)), f"journal table {table}")
        (outbox,) = journal.query(
            "SELECT payload_json FROM outbox WHERE idempotency_key = ?", (f"session:{sid}",)
        )
        assert_no_pan(outbox[0], "the outbox record")
        receipt = k.snap.focus.receipt if k.snap.focus else None
        assert receipt is None or PAN not in str(receipt)

    debug = [r for r in caplog.records if r.name == "drivers.zvt"]
    assert any("04 0F" in r.getMessage() for r in debug), "the ZVT exchange was not logged"
    assert any("1F10" in r.getMessage() for r in debug), "unknown tag 1F10 not logged by tag"
    for record in caplog.records:
        assert_no_pan(record.getMessage(), f"log record {record.name}")
    assert_no_pan(caplog.text, "the formatted log")
    for path in [*workdir.rglob("*"), *backend.log_path.parent.rglob("*")]:
        if path.is_file() and path.name != "simulated-terminal.json":  # the simulator's own
            assert_no_pan_bytes(path.read_bytes(), str(path))
