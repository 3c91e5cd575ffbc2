"""Signed meter records in the journal: stored before the meter may drop them, bound at close.

`store_record` runs on the meter's owner thread right after the record is read (the meter is
told it may drop it only afterwards); `close_ocmf_records` runs inside the transaction that
closes the session and queues its report, so the report carries exactly the bound records.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from kiosk.ocmf.billing import SignedBill

_COLUMNS = (
    "session_id, connector_id, meter_serial, pagination, record, public_key, signed, "
    "energy_wh, flags_json, detail, read_at"
)


def store_record(
    conn: sqlite3.Connection,
    *,
    session_id: str | None,
    connector_id: str,
    meter_serial: str,
    public_key: str | None,
    bill: SignedBill,
    at: datetime | None = None,
) -> bool:
    """Insert once per meter and transaction number; False if this record was already stored."""
    record = bill.record
    pagination = None if record is None else f"{record.pagination[0]}{record.pagination[1]}"
    cursor = conn.execute(
        f"INSERT OR IGNORE INTO ocmf_records ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608 - fixed column list
        (
            session_id,
            connector_id,
            meter_serial,
            pagination,
            None if record is None else record.text,
            public_key,
            int(bill.signed),
            bill.energy_wh,
            json.dumps([f.value for f in bill.flags]),
            bill.detail,
            (at or datetime.now(UTC)).isoformat(),
        ),
    )
    return cursor.rowcount == 1


def close_ocmf_records(conn: sqlite3.Connection, session_id: str, at: str) -> list[dict[str, Any]]:
    """Bind the session's records to its close; what the session report carries."""
    conn.execute(
        "UPDATE ocmf_records SET closed_at = ? WHERE session_id = ? AND closed_at IS NULL",
        (at, session_id),
    )
    rows = conn.execute(
        "SELECT meter_serial, pagination, record, public_key, signed, energy_wh, flags_json, "
        "detail FROM ocmf_records WHERE session_id = ? ORDER BY id",
        (session_id,),
    ).fetchall()
    return [
        {
            "meter_serial": serial,
            "pagination": pagination,
            "record": record,
            "public_key": key,
            "signed": bool(signed),
            "energy_wh": energy,
            "flags": json.loads(flags),
            "detail": detail,
        }
        for serial, pagination, record, key, signed, energy, flags, detail in rows
    ]
