"""OCPP 2.1 C25 against the independent CSMS (Node.js, ocpp-rpc in strict mode): without web
payments a RequestStartTransaction is refused; the CSMS sets WebPaymentsCtrlr and every free
tile shows a QR code whose one-time password verifies for the shared secret at that time (and
rolls over); NotifyWebPaymentStarted blocks a local start; the CSMS's RequestStartTransaction
with a DirectPayment token starts a session whose TransactionEvents all validate and whose
Ended cost is the kiosk's own; it is reported to the backend as paid through the CSMS and
reconciles clean, and no NotifySettlement is sent (the CSMS settles with its PSP)."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from drivers.station import BackendAccess
from kiosk.snapshot import ChooseConnector, StopCharging
from kiosk.snapshot import Phase as ScreenPhase
from tests.e2e.ocpp_rig import ocpp_kiosk
from tests.e2e.rig import BackendProcess, Kiosk
from tests.ocpp.peer import Csms, expected_totp, require_peer

SECRET = "station-1-shared-secret"
TEMPLATE = "https://pay.example/{chargingStationId}/{EVSE}/{totp}?v={version}"
TOKEN = {"idToken": "psp-web-0001", "type": "DirectPayment"}
START = {"idToken": TOKEN, "remoteStartId": 7, "evseId": 1}


def _var(name: str, value: str) -> dict[str, Any]:
    return {
        "component": {"name": "WebPaymentsCtrlr"},
        "variable": {"name": name},
        "attributeValue": value,
    }


def _script(go: Path) -> list[tuple[str, dict[str, Any]]]:
    values = [
        ("URLTemplate", TEMPLATE),
        ("SharedSecret", SECRET),
        ("Length", "12"),
        ("ValidityTime", "30"),
        ("Enabled", "true"),
    ]
    return [
        ("RequestStartTransaction", START),  # web payments not enabled yet: refused
        ("SetVariables", {"setVariableData": [_var(n, v) for n, v in values]}),
        ("@waitfile", {"path": str(go.with_suffix(".qr"))}),
        ("NotifyWebPaymentStarted", {"evseId": 1, "timeout": 120}),
        ("@waitfile", {"path": str(go.with_suffix(".start"))}),
        ("RequestStartTransaction", START),
    ]


def _until(k: Kiosk, done: Any, what: str) -> None:
    deadline = time.monotonic() + 60
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
    k.idle()


def _qr(k: Kiosk) -> tuple[str, int]:
    snap = k.snap
    url = snap.connectors[0].web_pay_url
    assert url is not None
    return url, int(snap.published_at.timestamp())


def test_c25_qr_code_web_payment_and_the_csms_paid_session(
    backend: BackendProcess, access: BackendAccess, workdir: Path, tmp_path: Path
) -> None:
    require_peer()
    go = tmp_path / "go"
    csms = Csms(tmp_path / "csms.jsonl", after_boot=_script(go)).start()
    try:
        with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, link):
            k.station.sims["1"].plug_in(soc=0.3)
            k.advance(2)
            _until(k, lambda: len(csms.results()) == 2, "the CSMS set no variables")
            _until(k, lambda: k.snap.connectors[0].web_pay_url is not None, "no QR code")
            url, at = _qr(k)
            parts = urlsplit(url)
            identity = link.config.identity
            assert parts.netloc == "pay.example" and parts.query == "v=v1"
            assert parts.path == f"/{identity}/1/{expected_totp(SECRET, 30, 12, at)}"
            k.advance(30, step=5)  # the password rolls over: the QR code follows
            url2, at2 = _qr(k)
            assert url2 != url and url2.endswith(f"/{expected_totp(SECRET, 30, 12, at2)}?v=v1")
            go.with_suffix(".qr").touch()

            _until(k, lambda: len(csms.results()) == 3, "no NotifyWebPaymentStarted")
            tile = k.snap.connectors[0]
            assert tile.web_paying_until is not None and not tile.selectable
            assert tile.web_pay_url is None
            k.send(ChooseConnector("1"))  # a local start is blocked while the phone pays
            k.idle()
            assert k.snap.focus is None and k.snap.connectors[0].session_id is None
            go.with_suffix(".start").touch()

            _until(k, lambda: len(csms.results()) == 4, "no RequestStartTransaction")
            focus = k.snap.focus
            assert focus is not None
            sid = focus.session_id
            k.advance(600, step=10)
            assert k.snap.focus is not None and k.snap.focus.phase is ScreenPhase.CHARGING
            k.send(StopCharging(sid))
            k.advance(5)
            receipt = k.snap.focus.receipt if k.snap.focus is not None else None
            assert receipt is not None
            ((final, method, reference),) = k.station.runtime.journal.query(
                "SELECT json_extract(s.state_json, '$.settlement.final_minor'), a.method, "
                "json_extract(s.state_json, '$.auth.reference') FROM sessions s "
                "JOIN authorisations a USING (session_id) WHERE s.session_id = ?",
                (sid,),
            )
            csms.wait_for(lambda: any(p["eventType"] == "Ended" for _, p in _events(csms)))
            deadline = time.monotonic() + 60
            while not any(s["session_id"] == sid for s in backend.sessions()):
                assert time.monotonic() < deadline, "the session never reached the backend"
                k.advance(5)
            stored = next(s for s in backend.sessions() if s["session_id"] == sid)
            day = k.snap.published_at
            report = backend.reconciliation(day)
    finally:
        csms.stop()
    assert csms.errors() == [], "the CSMS refused a message in strict mode"
    results = csms.results()
    assert [r["event"] for r in results] == ["call-result"] * 4, results
    refused, set_vars, notified, accepted = (r["result"] for r in results)
    assert refused["status"] == "Rejected" and refused["statusInfo"]["reasonCode"] == "NotSupported"
    assert {s["attributeStatus"] for s in set_vars["setVariableResult"]} == {"Accepted"}
    assert notified == {}
    assert accepted == {"status": "Accepted"}

    events = _events(csms)
    assert {p["transactionInfo"]["transactionId"] for _, p in events} == {sid}
    assert [p["seqNo"] for _, p in events] == list(range(len(events)))
    kinds = [p["eventType"] for _, p in events]
    assert kinds[0] == "Started" and kinds[-1] == "Ended" and "Updated" in kinds
    started, ended = events[0][1], events[-1][1]
    assert started["triggerReason"] == "RemoteStart"
    assert started["transactionInfo"]["remoteStartId"] == 7
    assert started["idToken"] == TOKEN
    # The Ended cost is the kiosk's own: the journal's amount and the receipt's total.
    assert method == "csms" and reference == TOKEN["idToken"]
    assert int(final) == receipt.total.minor > 0
    total = ended["costDetails"]["totalCost"]["total"]["inclTax"]
    assert Decimal(str(total)) == Decimal(int(final)) / 100
    assert csms.calls("NotifySettlement") == []  # the CSMS settles with its PSP
    # The backend: paid through the CSMS, no capture of ours, nothing to reconcile.
    assert stored["payment_method"] == "csms"
    assert stored["reported_minor"] == stored["computed_minor"] == int(final)
    assert sum(day["sessions"] for day in report["days"]) == 1
    findings = [d for day in report["days"] for d in day["discrepancies"]]
    assert findings == [] and report["clean"], findings


def _events(csms: Csms) -> list[tuple[str, dict[str, Any]]]:
    return csms.calls("TransactionEvent")


def test_c25_session_stops_below_the_cost_limit_the_csms_answers_with(
    backend: BackendProcess, access: BackendAccess, workdir: Path, tmp_path: Path
) -> None:
    """F07 "remote start with a cost limit": the CSMS answers the Started event with a
    transactionLimit.maxCost; the station stops the session below it by itself."""
    require_peer()
    values = [("URLTemplate", TEMPLATE), ("SharedSecret", SECRET), ("Enabled", "true")]
    script = [
        ("SetVariables", {"setVariableData": [_var(n, v) for n, v in values]}),
        ("RequestStartTransaction", START),
    ]
    limit = {"transactionLimit": {"maxCost": 1.5}}
    csms = Csms(tmp_path / "csms.jsonl", after_boot=script, tx_answer=limit).start()
    try:
        with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, _link):
            k.station.sims["1"].plug_in(soc=0.3)
            k.advance(2)
            _until(k, lambda: len(csms.results()) == 2, "no RequestStartTransaction")
            focus = k.snap.focus
            assert focus is not None
            sid = focus.session_id
            for _ in range(240):  # at most 40 minutes of charging, in steps of 10 s
                if k.snap.focus is None or k.snap.focus.phase is ScreenPhase.RECEIPT:
                    break
                k.advance(10, step=10)
            assert k.snap.focus is not None and k.snap.focus.phase is ScreenPhase.RECEIPT
            ((final, reason),) = k.station.runtime.journal.query(
                "SELECT json_extract(state_json, '$.settlement.final_minor'), "
                "json_extract(state_json, '$.stop_reason') FROM sessions WHERE session_id = ?",
                (sid,),
            )
            csms.wait_for(lambda: any(p["eventType"] == "Ended" for _, p in _events(csms)))
    finally:
        csms.stop()
    assert csms.errors() == []
    assert reason == "cost_cap" and 0 < int(final) <= 150
    ended = _events(csms)[-1][1]
    assert ended["triggerReason"] == "CostLimitReached"
    assert ended["transactionInfo"]["stoppedReason"] == "LocalOutOfCredit"
    total = ended["costDetails"]["totalCost"]["total"]["inclTax"]
    assert Decimal(str(total)) == Decimal(int(final)) / 100
