"""`evkiosk sim csms`: starts the test CSMS, prints an [ocpp] section that a station can paste
and boot with, stops the CSMS with it; without node it says how to install it."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.cli import sim_csms
from drivers.doctor.csms import check_csms
from drivers.doctor.result import Outcome
from kiosk.config import load_config
from tests.ocpp.peer import require_peer
from tests.ocpp.test_readme_sample import station_with

ROOT = Path(__file__).resolve().parents[2]


def test_without_node_it_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no node there
    parser = argparse.ArgumentParser()
    sim_csms.add_arguments(parser, "csms")
    assert sim_csms.run(parser.parse_args([])) == 1
    error = capsys.readouterr().err
    assert "node is not installed" in error
    assert "apt-get install nodejs npm" in error and "npm ci --prefix" in error


def test_the_printed_section_boots_a_station_in_the_chosen_version(tmp_path: Path) -> None:
    require_peer()
    record = tmp_path / "csms.jsonl"
    command = [sys.executable, "-m", "kiosk.cli.main", "sim", "csms", "--port", "0"]
    command += ["--record", str(record), "--protocols", "ocpp1.6", "--password", "change-me-csms"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert child.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("versions ="):
            line = child.stdout.readline()
            assert line, f"it ended before printing the section: {lines}"
            lines.append(line)
        text = "".join(lines)
        assert "echo 'change-me-csms' > csms-password" in text
        section = text[text.index("[ocpp]") :]
        assert 'versions = ["1.6"]' in section
        config = load_config(station_with(tmp_path, section)).ocpp
        assert config is not None
        check = check_csms(config, timeout_s=10)
        assert check.outcome is Outcome.PASS and "OCPP 1.6" in check.detail, check
    finally:
        child.terminate()
        child.wait(20)
        if child.stdout is not None:
            child.stdout.close()
    assert '"BootNotification"' in record.read_text()
    # The CSMS went with it: nobody listens on its port any more.
    check = check_csms(config, timeout_s=5)
    assert check.outcome is Outcome.FAIL and "not reachable" in check.detail
