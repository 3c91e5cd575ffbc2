"""A healthy station's log is quiet: a card session and minutes of idle probing against a real
backend leave no WARNING, no HTTP 404, and "backend reachable" only at INFO."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from drivers.station import BackendAccess
from tests.e2e.rig import BackendProcess, kiosk


def test_a_healthy_run_logs_no_warning_and_no_404(
    backend: BackendProcess,
    access: BackendAccess,
    workdir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    with kiosk(workdir, access, hold=5000) as k:
        k.charge_by_card(seconds=120)
        k.advance(300, step=10)  # ten probe periods of an idle station
        reporting = k.snap.reporting
        assert reporting is not None and reporting.backend_online is True
        assert reporting.outbox_queued == 0
    loud = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in caplog.records]
    assert not [line for line in loud if not line.startswith(("INFO", "DEBUG"))], loud
    assert not [line for line in loud if "404" in line], loud
    backend_log = backend.log_path.read_text()
    assert "404" not in backend_log, backend_log[-2000:]
