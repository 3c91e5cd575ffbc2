"""The CSMS link's one-line status: in `evkiosk status` (from the journal alone) and in the
service menu (from the snapshot), in every language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.cli.status import as_json, csms_line, render
from kiosk.journal.store import Journal
from kiosk.ops.summary import summarise
from kiosk.snapshot import CsmsLinkView, Phase, StationSnapshot
from ui.i18n import load_languages
from ui.service import csms_lines

AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def test_status_reads_the_links_last_state_and_the_queue_from_the_journal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    journal = Journal.open(path)
    try:
        assert summarise(path).csms is None  # never joined: no line at all
        journal.csms_link_state(False, None, "OSError: connection refused")
        down = summarise(path).csms
        journal.csms_link_state(True, "2.0.1", None)
    finally:
        journal.close()
    assert down is not None and down["connected"] is False and down["queued"] == 0
    line = csms_line(down)
    assert line is not None and line.startswith("CSMS: not connected, 0 messages queued")
    assert "last error: OSError: connection refused" in line
    summary = summarise(path)
    assert csms_line(summary.csms or {}).startswith(  # type: ignore[union-attr]
        "CSMS: connected, OCPP 2.0.1, 0 messages queued (since "
    )
    assert any(text.startswith("CSMS: connected") for text in render(summary))
    assert as_json(summary)["csms"]["version"] == "2.0.1"


def _snapshot(link: CsmsLinkView | None) -> StationSnapshot:
    return StationSnapshot(1, AT, "S", ("en",), Phase.IDLE, (), csms=link)


@pytest.mark.parametrize(
    ("code", "up", "down"),
    [
        ("en", "CSMS: connected (OCPP 2.1), 3 messages queued", "CSMS: not connected, 0"),
        ("de", "CSMS: verbunden (OCPP 2.1), 3 Nachrichten", "CSMS: nicht verbunden, 0"),
        ("fr", "CSMS\u00a0: connecté (OCPP 2.1), 3 messages", "CSMS\u00a0: non connecté, 0"),
    ],
)
def test_the_service_menu_says_it_in_one_line(code: str, up: str, down: str) -> None:
    lang = load_languages()[code]
    assert csms_lines(_snapshot(None), lang) == []
    (line,) = csms_lines(_snapshot(CsmsLinkView(True, "2.1", 3)), lang)
    assert line.startswith(up) and "OSError" not in line
    (line,) = csms_lines(_snapshot(CsmsLinkView(False, None, 0, "OSError: refused")), lang)
    assert line.startswith(down) and line.endswith("OSError: refused")
