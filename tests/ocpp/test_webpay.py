"""The C25 QR code's URL and one-time password (drivers/ocpp/webpay.py) and the
WebPaymentsCtrlr variables that drive it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from drivers.ocpp.variables import DeviceModel
from drivers.ocpp.webpay import fill_template, interval_end, settings_from, totp_v1
from kiosk.journal.store import Journal
from tests.ocpp.peer import expected_totp

AT = datetime(2026, 5, 4, 10, 0, 7, tzinfo=UTC)


def test_the_password_is_base62_of_its_length_and_holds_for_its_interval() -> None:
    code = totp_v1("a-shared-secret", 12, 30, AT)
    assert len(code) == 12 and code.isalnum()
    assert code == expected_totp("a-shared-secret", 30, 12, int(AT.timestamp()))
    start = AT.replace(second=0)
    assert totp_v1("a-shared-secret", 12, 30, start + timedelta(seconds=29)) == code
    assert totp_v1("a-shared-secret", 12, 30, start + timedelta(seconds=30)) != code
    assert totp_v1("another-secret", 12, 30, AT) != code
    assert interval_end(30, AT) == start + timedelta(seconds=30)


def test_the_template_is_filled_without_regard_to_case_and_leaves_unknown_names() -> None:
    url = fill_template(
        "https://q.example/{ChargingStationId}/{evse}/{TOTP}?v={version}&x={other}",
        station="CS 1",
        evse=2,
        totp="abc",
    )
    assert url == "https://q.example/CS%201/2/abc?v=v1&x={other}"


def test_settings_are_ready_only_with_enabled_template_and_secret() -> None:
    assert not settings_from({"Enabled": "true", "URLTemplate": "https://q/{totp}"}).ready
    ready = settings_from(
        {"Enabled": "true", "URLTemplate": "https://q/{totp}", "SharedSecret": "12345678"}
    )
    assert ready.ready and ready.length == 12 and ready.validity_s == 30
    assert not settings_from({"URLTemplate": "https://q/{totp}", "SharedSecret": "x" * 8}).ready


def _item(name: str, value: str | None = None) -> dict[str, object]:
    item: dict[str, object] = {
        "component": {"name": "WebPaymentsCtrlr"},
        "variable": {"name": name},
    }
    if value is not None:
        item["attribute_value"] = value
    return item


def test_the_shared_secret_is_kept_but_never_read_back(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.db")
    try:
        model = DeviceModel(journal, "EUR")
        assert model.set(_item("SharedSecret", "short"))["attributeStatus"] == "Rejected"
        assert model.set(_item("SharedSecret", "long-enough"))["attributeStatus"] == "Accepted"
        got = model.get(_item("SharedSecret"))
        assert got["attributeStatus"] == "Rejected" and "attributeValue" not in got
        assert model.values("WebPaymentsCtrlr")["SharedSecret"] == "long-enough"
        assert model.set(_item("ValidityTime", "5"))["attributeStatus"] == "Rejected"
        assert model.set(_item("ValidityTime", "3600"))["attributeStatus"] == "Accepted"
        assert model.set(_item("TOTPVersion", "v2"))["attributeStatus"] == "Rejected"
        assert model.set(_item("Enabled", "true"))["attributeStatus"] == "Accepted"
    finally:
        journal.close()
