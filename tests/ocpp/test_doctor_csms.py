"""`evkiosk doctor` asks the CSMS: boot accepted, a wrong password, nobody listening."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.doctor.csms import check_csms
from drivers.doctor.result import Outcome
from kiosk.config import OcppConfig
from tests.e2e.rig import free_port
from tests.ocpp.peer import PASSWORD, Csms, require_peer


@pytest.fixture
def csms(tmp_path: Path) -> Iterator[Csms]:
    require_peer()
    peer = Csms(tmp_path / "csms.jsonl").start()
    try:
        yield peer
    finally:
        peer.stop()


def config(url: str, password: str) -> OcppConfig:
    return OcppConfig(url=url, identity="EVK-DOCTOR", password=password)


def test_an_accepted_boot_passes(csms: Csms) -> None:
    check = check_csms(config(csms.url, PASSWORD), timeout_s=10)
    assert check.outcome is Outcome.PASS, check
    assert "boot accepted (OCPP 2.1, no TLS" in check.detail
    assert len(csms.calls("BootNotification")) == 1 and csms.errors() == []


def test_a_wrong_password_fails_with_what_to_do(csms: Csms) -> None:
    check = check_csms(config(csms.url, "not-the-password"), timeout_s=10)
    assert check.outcome is Outcome.FAIL
    assert "credentials (HTTP 401)" in check.detail and "password_file" in check.fix
    assert csms.calls() == []


def test_nobody_listening_fails_as_unreachable() -> None:
    check = check_csms(config(f"ws://127.0.0.1:{free_port()}/ocpp", PASSWORD), timeout_s=5)
    assert check.outcome is Outcome.FAIL and "not reachable" in check.detail


def test_a_16_csms_is_spoken_to_in_16(tmp_path: Path) -> None:
    require_peer()
    peer = Csms(tmp_path / "csms16.jsonl", protocols=("ocpp1.6",)).start()
    try:
        check = check_csms(config(peer.url, PASSWORD), timeout_s=10)
    finally:
        peer.stop()
    assert check.outcome is Outcome.PASS, check
    assert "boot accepted (OCPP 1.6, no TLS" in check.detail
    ((_, boot),) = peer.calls("BootNotification")
    assert boot["chargePointModel"] == "evkiosk" and peer.errors() == []
