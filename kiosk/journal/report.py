"""The record of a closed session, as it goes into the outbox for the backend."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kiosk.journal.codec import to_jsonable
from kiosk.ocmf.readings import billed_energies, signed_clock
from kiosk.session.common import booked_lines
from kiosk.session.model import Session


def session_report(
    s: Session,
    readings: list[list[object]] | None = None,
    ocmf: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything the backend needs to capture, count and reconcile one session, once.

    `readings` are the journaled readings ([measured_at, Wh, W, charging], the start first): the
    metered values the cost was computed from, so the charging periods can be rebuilt."""
    auth = s.auth
    settlement = s.settlement
    meter_end = None if s.last_reading is None else s.last_reading.energy_import_wh
    if s.signed is not None and s.meter_start is not None:
        # Billed from the signing meter's record: the energy is the signed one.
        readings, meter_end = _billed(s, readings or [], s.signed.energy_wh)
    return {
        "session_id": s.session_id,
        "connector_id": s.connector_id,
        "created_at": to_jsonable(s.created_at),
        "started_at": to_jsonable(s.started_at),
        "ended_at": to_jsonable(s.ended_at),
        "tariff_id": s.offer.tariff_id,
        "tariff": s.offer.tariff_json,
        "currency": s.offer.currency,
        "meter_start_wh": None if s.meter_start is None else s.meter_start.energy_import_wh,
        "meter_end_wh": meter_end,
        "energy_wh": s.energy_wh,
        "cost_minor": s.cost_minor,
        "final_minor": None if settlement is None else settlement.final_minor,
        # The booked amount by price component, as the receipt lists it.
        "cost_lines": []
        if settlement is None
        else [
            {"component": line.component, "amount_minor": line.amount.minor}
            for line in booked_lines(s, settlement.final_minor)
        ],
        "agreed_minor": s.agreed_minor,
        "settlement_confirmed": None if settlement is None else settlement.confirmed,
        "settlement_assumed": None if settlement is None else settlement.assumed,
        # The booking's own receipt and trace (the terminal's batch counts these).
        "settlement_receipt_no": None if settlement is None else settlement.receipt_no,
        "settlement_trace_no": None if settlement is None else settlement.trace_no,
        "stop_reason": None if s.stop_reason is None else s.stop_reason.value,
        "failure": None if s.failure is None else s.failure.value,
        "money": s.money.value,
        "authorisation": None if auth is None else to_jsonable(auth),
        "readings": readings or [],
        # Signed meter records (Eichrecht) of this session, when the connector's meter signs.
        **({"ocmf": ocmf} if ocmf else {}),
        **({} if s.signed is None else {"signed_flags": list(s.signed.flags)}),
    }


def _billed(
    s: Session, readings: list[list[object]], energy_wh: int
) -> tuple[list[list[object]], int]:
    """The readings re-based onto the billed energy (kiosk.ocmf.readings), and the end value."""
    assert s.meter_start is not None
    start = s.meter_start.energy_import_wh
    if not readings:
        return [], start + energy_wh
    values = billed_energies([int(r[1]) for r in readings], energy_wh)  # type: ignore[call-overload]
    rows = [[r[0], v, *r[2:]] for r, v in zip(readings, values, strict=False)]
    if len(values) > len(rows):
        ended = max(s.ended_at or s.meter_start.measured_at, s.meter_start.measured_at)
        rows.append([to_jsonable(ended), values[-1], None, True])
    signed = s.signed
    if signed is not None and signed.begin_at is not None and signed.end_at is not None:
        times = [datetime.fromisoformat(str(r[0])) for r in rows]
        for row, at in zip(rows, signed_clock(times, signed.begin_at, signed.end_at), strict=True):
            row[0] = to_jsonable(at)
    return rows, start + energy_wh
