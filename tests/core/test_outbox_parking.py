"""Parking time (IEC state B after the vehicle drew energy) is billed from the controller's
state, journaled with each reading, reproducible from the journal alone, and sent to the
backend as charging periods its recomputation agrees with."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from doubles.rig import TZ, Rig, energy_tariff

from backend.pricing import recompute
from drivers.backend_client.wire import session_body
from kiosk.journal.store import StoredReading
from kiosk.snapshot import ChooseConnector, ConfirmPrice, PayByCard, Phase, StopCharging
from kiosk.tariff import LiveCostCalculator, parse_tariff


def parking_tariff() -> dict[str, Any]:
    tariff = energy_tariff("0.50", "PARK1")
    tariff["elements"].append(
        {"price_components": [{"type": "PARKING_TIME", "price": 6.00, "vat": 19, "step_size": 60}]}
    )
    return tariff


def journal_cost(tariff_json: str, readings: list[StoredReading], charging: bool | None) -> int:
    """The engine's cost of the journaled readings; charging=None: as journaled."""
    tariff = parse_tariff(json.loads(tariff_json, parse_float=Decimal))
    start = readings[0].reading
    calc = LiveCostCalculator(tariff, TZ, start.measured_at, start.energy_import_wh)
    total = 0
    for r in readings[1:]:
        flag = r.charging if charging is None else charging
        total = calc.add_reading(
            r.reading.measured_at, r.reading.energy_import_wh, r.reading.power_w, charging=flag
        ).total_minor()
    return total


def test_parking_after_charging_is_billed_and_reproducible(tmp_path: Path) -> None:
    rig = Rig(tmp_path, tariff=parking_tariff(), hold_minor=5000).start()
    try:
        rig.plants["1"].set(plugged=True)
        rig.advance(2)
        rig.send(ChooseConnector("1"))
        sid = rig.snap.focus.session_id if rig.snap.focus else ""
        rig.send(ConfirmPrice(sid))
        rig.send(PayByCard(sid))
        rig.advance(600, step=10)  # 10 min charging at 11 kW
        rig.plants["1"].set(wants_energy=False)  # full: pilot B, connected, not drawing
        rig.advance(540, step=10)  # 9 min parked
        assert rig.snap.focus is not None and rig.snap.focus.phase is Phase.CHARGING
        rig.send(StopCharging(sid))
        rig.advance(3)
        receipt = rig.snap.focus.receipt if rig.snap.focus else None
        assert receipt is not None
        readings = rig.journal.readings(sid)
        tariff_json = rig.journal.query("SELECT tariff_json FROM sessions")[0][0]
        (payload,) = rig.journal.query("SELECT payload_json FROM outbox")
    finally:
        rig.stop()
    parked = [r for r in readings if not r.charging]
    assert 50 <= len(parked) <= 56  # the readings taken in state B after energy flowed
    energy_only = journal_cost(tariff_json, readings, charging=True)
    # live == final == the journal's readings priced again; the parking time costs extra
    assert receipt.total.minor == journal_cost(tariff_json, readings, None) > energy_only
    assert receipt.total.minor - energy_only in range(100, 115)  # ~9 min at 6.00 EUR/h + VAT

    # The report carries the readings; the backend's recomputation from its charging periods
    # comes out at the kiosk's amount (one period "all charging" would not).
    body = session_body(json.loads(payload[0]), "Europe/Berlin")
    periods = body["charging_periods"]
    dims = {d["type"] for p in periods for d in p["dimensions"]}
    assert {"ENERGY", "TIME", "PARKING_TIME"} <= dims
    computed = recompute(
        json.loads(tariff_json, parse_float=Decimal),
        currency="EUR",
        start=readings[0].reading.measured_at,
        end=readings[-1].reading.measured_at,
        meter_start_wh=body["meter_start_wh"],
        meter_end_wh=body["meter_end_wh"],
        charging_periods=periods,
        time_zone="Europe/Berlin",
    )
    assert computed.total_minor == receipt.total.minor
    assert body["total_cost"] == receipt.total.minor


def test_charging_periods_of_odd_durations_pass_the_backends_cdr_bounds() -> None:
    """A period of 121 s is 0.0336111… h with Decimal's 28 digits (29 decimals), one second
    31 decimals: the CDR the kiosk reports must pass the same parser the backend uses."""
    from kiosk.outbox.periods import charging_periods
    from kiosk.tariff import parse_cdr

    tariff = json.dumps(energy_tariff("0.50", "ODD"))
    readings = [
        ["2026-03-02T09:00:00+00:00", 1000, 0.0, True],
        ["2026-03-02T09:02:01+00:00", 1370, 11000.0, True],
        ["2026-03-02T09:02:02+00:00", 1373, 11000.0, True],
    ]
    periods = charging_periods(tariff, "Europe/Berlin", readings)
    cdr = parse_cdr(
        json.loads(
            json.dumps(
                {
                    "start_date_time": "2026-03-02T09:00:00+00:00",
                    "end_date_time": "2026-03-02T09:02:02+00:00",
                    "currency": "EUR",
                    "charging_periods": periods,
                },
                default=str,
            ),
            parse_float=Decimal,
        )
    )
    assert sum(p.time_h for p in cdr.charging_periods) * 3600 == pytest.approx(122)
