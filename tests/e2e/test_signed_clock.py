"""Time-based prices of a session on a signing meter follow the meter's signed clock, not the
station's (Eichrecht: the station clock is not calibrated). The EM580 simulator's clock is
three hours behind the station's and runs at half its pace; the TIME component is billed for
the signed begin-to-end duration, by the kiosk and by the backend's recomputation alike. Its
own module: a fresh backend process (each simulator signs its first record as T1 of the same
serial, which the backend keeps once per meter)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from drivers.station import BackendAccess
from kiosk.ocmf import parse_ocmf
from kiosk.session.names import Phase
from kiosk.snapshot import BackToStart
from tests.e2e.rig import BackendProcess, tariff
from tests.e2e.signed_rig import charge_to_stop, delivered, meter, session_state, signed_kiosk


def test_time_is_billed_by_the_meters_signed_clock_not_the_station_clock(
    backend: BackendProcess, access: BackendAccess, workdir: Path
) -> None:
    prices = tariff()
    prices["elements"][0]["price_components"].append(
        {"type": "TIME", "price": "6.00", "vat": 19, "step_size": 1}
    )
    with signed_kiosk(workdir, access, prices=prices) as k:
        # The meter's clock is its own: three hours behind the station's, at half its pace.
        meter(k).set_clock(k.clock.now() - timedelta(hours=3), rate=0.5)
        sid = charge_to_stop(k)
        k.advance(5)
        focus = k.snap.focus
        assert focus is not None and focus.phase is Phase.RECEIPT, focus
        (text,) = meter(k).records
        record = parse_ocmf(text)
        begin, end = record.readings[0], record.readings[-1]
        signed_s = Decimal((end.at - begin.at) // timedelta(microseconds=1)) / 1_000_000
        readings = k.station.runtime.journal.readings(sid)
        assert all(r.charging for r in readings)  # all of it is charging time
        station_s = (readings[-1].reading.measured_at - readings[0].reading.measured_at).seconds
        assert signed_s < station_s * Decimal("0.6")  # the meter counted about half
        state = session_state(k, sid)
        assert state.signed is not None and state.signed.signed and state.signed.flags == ()
        assert state.signed.begin_at == begin.at and state.signed.end_at == end.at
        lines = {line.component: line.amount.minor for line in state.signed.cost_lines}
        # 6.00 EUR an hour of the meter's time, half up to the cent; not the station's hour
        time_minor = int((signed_s * 600 / 3600).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert lines["time"] == time_minor != round(station_s * 600 / 3600)
        assert lines["energy"] == round(state.signed.energy_wh * 50 / 1000)
        assert state.settlement is not None
        assert state.settlement.final_minor == lines["time"] + lines["energy"]
        k.send(BackToStart(sid))
        delivered(k)
        day = k.clock.now()
    (stored,) = [s for s in backend.sessions() if s["session_id"] == sid]
    assert stored["reported_minor"] == stored["computed_minor"] == state.settlement.final_minor
    periods = json.loads(stored["cdr"])["charging_periods"]
    timed = [d for p in periods for d in p["dimensions"] if d["type"] == "TIME"]
    hours = sum((Decimal(str(d["volume"])) for d in timed), Decimal(0))
    assert abs(hours * 3600 - signed_s) < Decimal("0.001")  # the backend timed it by the meter
    report = backend.reconciliation(day)
    assert report["clean"] is True, report
