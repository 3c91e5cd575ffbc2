"""Calls from the CSMS, validated in strict mode on both sides: GetVariables and SetVariables
for the payment controllers (what is set is kept in the journal), TriggerMessage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.config import load_config
from kiosk.journal.store import Journal
from tests.ocpp.peer import PASSWORD, Csms, ocpp_section, require_peer
from tests.ocpp.test_readme_sample import SAMPLES
from ui.composition import assemble


def var(component: str, variable: str, value: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"component": {"name": component}, "variable": {"name": variable}}
    if value is not None:
        item["attributeValue"] = value
    return item


TEMPLATE = "https://pay.example/{evseId}?totp={totp}"
SCRIPT: list[tuple[str, dict[str, Any]]] = [
    (
        "GetVariables",
        {
            "getVariableData": [
                var("PaymentCtrlr", "AuthorizeDirectPayment"),
                var("TariffCostCtrlr", "Currency"),
                var("PaymentCtrlr", "NoSuchThing"),
                var("NoSuchCtrlr", "Enabled"),
            ]
        },
    ),
    (
        "SetVariables",
        {
            "setVariableData": [
                var("WebPaymentsCtrlr", "URLTemplate", TEMPLATE),
                var("PaymentCtrlr", "Enabled", "false"),  # read-only
                var("WebPaymentsCtrlr", "ValidityTime", "soon"),  # not a number of seconds
            ]
        },
    ),
    ("GetVariables", {"getVariableData": [var("WebPaymentsCtrlr", "URLTemplate")]}),
    ("TriggerMessage", {"requestedMessage": "Heartbeat"}),
    ("TriggerMessage", {"requestedMessage": "StatusNotification"}),
    ("TriggerMessage", {"requestedMessage": "MeterValues"}),
]


def test_variables_are_answered_kept_and_messages_triggered(tmp_path: Path) -> None:
    require_peer()
    csms = Csms(tmp_path / "csms.jsonl", after_boot=SCRIPT).start()
    (tmp_path / "tariff.json").write_text((SAMPLES / "tariff.json").read_text())
    password = tmp_path / "csms-password"
    password.write_text(PASSWORD + "\n")
    path = tmp_path / "station.toml"
    path.write_text((SAMPLES / "station.toml").read_text() + ocpp_section(csms.url, password))
    try:
        assembly = assemble(load_config(path), simulate=True, state_dir=tmp_path / "state")
        assembly.start()
        try:
            csms.wait_for(lambda: len(csms.results()) == len(SCRIPT))
            csms.wait_for(lambda: len(csms.calls("Heartbeat")) == 1)
            csms.wait_for(lambda: len(csms.calls("StatusNotification")) >= 4)
        finally:
            assembly.stop()
    finally:
        csms.stop()
    assert csms.errors() == []
    results = csms.results()
    assert [r["event"] for r in results] == ["call-result"] * len(SCRIPT), results
    got = results[0]["result"]["getVariableResult"]
    assert [g["attributeStatus"] for g in got] == [
        "Accepted",
        "Accepted",
        "UnknownVariable",
        "UnknownComponent",
    ]
    assert got[0]["attributeValue"] == "false" and got[1]["attributeValue"] == "EUR"
    set_results = results[1]["result"]["setVariableResult"]
    assert [s["attributeStatus"] for s in set_results] == ["Accepted", "Rejected", "Rejected"]
    assert results[2]["result"]["getVariableResult"][0]["attributeValue"] == TEMPLATE
    assert [r["result"]["status"] for r in results[3:]] == [
        "Accepted",
        "Accepted",
        "NotImplemented",
    ]
    journal = Journal.open(tmp_path / "state" / "journal.db")
    try:
        assert journal.csms_variables() == {("WebPaymentsCtrlr", "URLTemplate"): TEMPLATE}
    finally:
        journal.close()
