"""Tariffs from the independent CSMS (OCPP 2.1 §I, strict on both sides): SetDefaultTariff
changes the price on the tile and what the next session costs, is kept across a restart, and
ClearTariffs gives the station its tariff file back; a tariff that cannot be applied exactly is
refused with the OCPP status and the field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from drivers.station import BackendAccess
from kiosk.money import Money
from kiosk.session.names import Phase
from kiosk.snapshot import (
    BackToStart,
    ChooseConnector,
    ConfirmPrice,
    PayByCard,
    StationSnapshot,
    StopCharging,
)
from tests.e2e.ocpp_rig import ocpp_kiosk, pay_and_charge
from tests.e2e.test_ocpp_remote import charge_until
from tests.ocpp.peer import Csms, require_peer

VAT = [{"type": "VAT", "tax": 19}]
NETWORK = {
    "tariffId": "net-0.40",
    "currency": "EUR",
    "description": [{"format": "UTF8", "language": "en", "content": "Network tariff"}],
    "energy": {"prices": [{"priceKwh": 0.40}], "taxRates": VAT},
}
PER_DAY_KIND = {
    "tariffId": "dc-only",
    "currency": "EUR",
    "energy": {"prices": [{"priceKwh": 0.30, "conditions": {"evseKind": "DC"}}], "taxRates": VAT},
}
SET_AND_LOOK: list[tuple[str, dict[str, Any]]] = [
    ("GetTariffs", {"evseId": 0}),
    ("SetDefaultTariff", {"evseId": 1, "tariff": PER_DAY_KIND}),
    ("SetDefaultTariff", {"evseId": 7, "tariff": NETWORK}),
    ("SetDefaultTariff", {"evseId": 0, "tariff": NETWORK}),
    ("SetDefaultTariff", {"evseId": 1, "tariff": {**NETWORK, "energy": PER_DAY_KIND["energy"]}}),
    ("GetTariffs", {"evseId": 0}),
    (
        "ChangeTransactionTariff",
        {"transactionId": "no-such-transaction", "tariff": NETWORK},
    ),
]
CLEAR: list[tuple[str, dict[str, Any]]] = [
    ("GetTariffs", {"evseId": 1}),
    ("ClearTariffs", {"tariffIds": ["net-0.40", "other"]}),
    ("GetTariffs", {"evseId": 0}),
    ("ClearTariffs", {}),
]


def energy_price(snap: StationSnapshot) -> Decimal:
    (tile,) = snap.connectors
    assert tile.price is not None
    (line,) = [line for line in tile.price.lines if line.dimension == "energy"]
    return line.price_incl_vat


def statuses(csms: Csms) -> list[Any]:
    out: list[Any] = []
    for r in csms.results():
        assert r["event"] == "call-result", r
        result = r["result"]
        out.append(result.get("status") or [c["status"] for c in result["clearTariffsResult"]])
    return out


def test_a_csms_tariff_prices_the_tile_and_the_next_session_until_cleared(
    backend: object, access: BackendAccess, workdir: Path, tmp_path: Path
) -> None:
    require_peer()
    local = Decimal("0.50")  # the file's price includes VAT
    network = Decimal("0.40") * Decimal("1.19")
    csms = Csms(tmp_path / "csms.jsonl", after_boot=SET_AND_LOOK).start()
    try:
        with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, _link):
            assert energy_price(k.snap) == local
            csms.wait_for(lambda: len(csms.results()) == len(SET_AND_LOOK))
            k.idle()
            assert energy_price(k.snap) == network
            sid = pay_and_charge(k, 600)
            focus = k.snap.focus
            assert focus is not None and focus.receipt is not None
            receipt = focus.receipt
            assert focus.price_lines[0].price_incl_vat == network
            csms.wait_for(lambda: len(csms.calls("NotifySettlement")) == 1)
            frozen = k.station.runtime.journal.query(
                "SELECT json_extract(tariff_json, '$.id') FROM sessions WHERE session_id = ?",
                (sid,),
            )
    finally:
        csms.stop()
    assert csms.errors() == []
    results = csms.results()
    assert statuses(csms) == [
        "NoTariff",
        "ConditionNotSupported",
        "Rejected",
        "Accepted",
        "DuplicateTariffId",
        "Accepted",
        "TxNotFound",
    ]
    refused = results[1]["result"]["statusInfo"]
    assert "evseKind" in refused["additionalInfo"]
    assert results[5]["result"]["tariffAssignments"] == [
        {"tariffId": "net-0.40", "tariffKind": "DefaultTariff", "evseIds": [1]}
    ]
    # The session froze the CSMS's tariff and cost what it says, to the cent: energy only.
    assert frozen == [("net-0.40",)]
    kwh = Decimal(receipt.energy_wh) / 1000
    expected = Money(kwh * Decimal("0.40") * Decimal("1.19"), "EUR").to_minor()
    assert receipt.total.minor == expected > 0
    events = [p for _, p in csms.calls("TransactionEvent")]
    started, ended = events[0], events[-1]
    assert started["eventType"] == "Started"
    assert started["transactionInfo"]["tariffId"] == "net-0.40"
    assert ended["eventType"] == "Ended"
    assert ended["costDetails"]["totalCost"]["total"]["inclTax"] == Decimal(expected) / 100

    # A restart prices with the CSMS's tariff at once; ClearTariffs gives the file back.
    again = Csms(tmp_path / "csms2.jsonl", after_boot=CLEAR).start()
    try:
        with ocpp_kiosk(workdir, access, again.url, hold=5000) as (k, _link):
            first = k.snapshots[0]
            assert energy_price(first) == network
            again.wait_for(lambda: len(again.results()) == len(CLEAR))
            k.idle()
            assert energy_price(k.snap) == local
    finally:
        again.stop()
    assert again.errors() == []
    assert statuses(again) == ["Accepted", ["Accepted", "NoTariff"], "NoTariff", ["NoTariff"]]


PER_DIMENSION = {
    "tariffId": "net-3d",
    "currency": "EUR",
    "fixedFee": {"prices": [{"priceFixed": 0.50}], "taxRates": VAT},
    "energy": {"prices": [{"priceKwh": 0.40}], "taxRates": VAT},
    "chargingTime": {"prices": [{"priceMinute": 0.02}], "taxRates": VAT},
}
_PARTS = {"energy": "energy", "time": "chargingTime", "fixed": "fixed", "parking": "idleTime"}


def test_cost_details_per_dimension_are_the_amounts_the_kiosk_books(
    backend: Any, access: BackendAccess, workdir: Path, tmp_path: Path
) -> None:
    require_peer()
    script = [("SetDefaultTariff", {"evseId": 0, "tariff": PER_DIMENSION})]
    csms = Csms(tmp_path / "csms.jsonl", after_boot=script).start()
    try:
        with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, _link):
            csms.wait_for(lambda: len(csms.results()) == 1)
            k.idle()
            sid = pay_and_charge(k, 600)
            focus = k.snap.focus
            assert focus is not None and focus.receipt is not None
            receipt = focus.receipt
            csms.wait_for(lambda: len(csms.calls("NotifySettlement")) == 1)
            k.send(BackToStart(sid))
            k.station.sims["1"].unplug()
            k.advance(3)
            assert k.snap.reporting is not None and k.snap.reporting.outbox_queued == 0
            ((booked,),) = k.station.runtime.journal.query(
                "SELECT json_extract(state_json, '$.settlement.final_minor') FROM sessions "
                "WHERE session_id = ?",
                (sid,),
            )
    finally:
        csms.stop()
    assert csms.errors() == [], "the CSMS refused a message in strict mode"
    assert statuses(csms) == ["Accepted"]
    events = [p for _, p in csms.calls("TransactionEvent")]
    ended = events[-1]
    assert ended["eventType"] == "Ended"
    details = ended["costDetails"]
    total = details["totalCost"]
    # The total is what the journal booked, the backend was told and recomputed.
    (stored,) = [s for s in backend.sessions() if s["session_id"] == sid]
    assert total["total"]["inclTax"] == Decimal(booked) / 100
    assert stored["reported_minor"] == stored["computed_minor"] == booked == receipt.total.minor
    # Each part is the receipt's line for that dimension (incl. tax), with its net and rate.
    lines = {line.component: line.amount.minor for line in receipt.cost_lines}
    assert {"energy", "time", "fixed"} <= set(lines)
    for component, part in _PARTS.items():
        if component in lines:
            assert total[part]["inclTax"] == Decimal(lines[component]) / 100, part
            assert total[part]["exclTax"] <= total[part]["inclTax"]
            assert total[part]["taxRates"] == [{"type": "VAT", "tax": 19}]
        else:
            assert part not in total
    assert total["fixed"] == {
        "exclTax": Decimal("0.50"),
        "inclTax": Decimal("0.60"),  # 0.595 rounded half up
        "taxRates": [{"type": "VAT", "tax": 19}],
    }
    adjustments = sum(
        v for c, v in lines.items() if c not in _PARTS
    )  # the trailing second after Stop, the hold cap: no OCPP part
    parts_sum = sum(total[p]["inclTax"] for p in _PARTS.values() if p in total)
    assert parts_sum + Decimal(adjustments) / 100 == total["total"]["inclTax"]
    # The charging periods carry the volumes the engine priced.
    periods = details["chargingPeriods"]
    assert {p["tariffId"] for p in periods} == {"net-3d"}
    energy = sum(d["volume"] for p in periods for d in p["dimensions"] if d["type"] == "Energy")
    assert energy == details["totalUsage"]["energy"] == Decimal(receipt.energy_wh) / 1000
    charging = sum(
        d["volume"] for p in periods for d in p["dimensions"] if d["type"] == "ChargingTime"
    )
    # priced up to the last reading: the trailing second after Stop (not booked: stop_price)
    assert details["totalUsage"]["chargingTime"] == 600 <= charging <= 605
    # The running cost had its parts too.
    periodic = [e for e in events if e["triggerReason"] == "MeterValuePeriodic"]
    assert periodic and all("energy" in e["costDetails"]["totalCost"] for e in periodic)


def test_a_running_session_keeps_its_tariff_when_the_csms_sets_another(
    backend: Any, access: BackendAccess, workdir: Path, tmp_path: Path
) -> None:
    require_peer()
    script = [
        ("@wait", {"action": "TransactionEvent", "count": 3}),
        ("SetDefaultTariff", {"evseId": 1, "tariff": NETWORK}),
    ]
    csms = Csms(tmp_path / "csms.jsonl", after_boot=script).start()
    try:
        with ocpp_kiosk(workdir, access, csms.url, hold=5000) as (k, _link):
            k.station.sims["1"].plug_in(soc=0.3)
            k.advance(2)
            k.send(ChooseConnector("1"))
            sid = k.focus_id()
            k.send(ConfirmPrice(sid))
            k.send(PayByCard(sid))
            # The CSMS sets its tariff while the session charges (after its third event).
            charge_until(k, lambda: len(csms.results()) == 1, limit_s=600)
            k.advance(120, step=10)
            assert energy_price(k.snap) == Decimal("0.40") * Decimal("1.19")
            focus = k.snap.focus
            assert focus is not None and focus.phase is Phase.CHARGING
            k.send(StopCharging(sid))
            k.advance(5)
            focus = k.snap.focus
            assert focus is not None and focus.receipt is not None
            receipt = focus.receipt
            frozen = k.station.runtime.journal.query(
                "SELECT json_extract(tariff_json, '$.id') FROM sessions WHERE session_id = ?",
                (sid,),
            )
            csms.wait_for(lambda: len(csms.calls("NotifySettlement")) == 1)
    finally:
        csms.stop()
    assert csms.errors() == []
    assert statuses(csms) == ["Accepted"]
    assert frozen == [("E2E",)]  # the tariff file's, frozen at connector choice
    ((_, started), *_) = csms.calls("TransactionEvent")
    assert started["transactionInfo"]["tariffId"] == "E2E"
    kwh = Decimal(receipt.energy_wh) / 1000
    # the file's 0.50 per kWh incl. VAT for the whole session, not the CSMS's 0.476
    assert receipt.total.minor == Money(kwh * Decimal("0.50"), "EUR").to_minor() > 0
    ended = [p for _, p in csms.calls("TransactionEvent")][-1]
    assert ended["costDetails"]["totalCost"]["total"]["inclTax"] == receipt.total.minor / Decimal(
        100
    )
