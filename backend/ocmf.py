"""Signed meter records (OCMF, Eichrecht) at the backend: checked on ingest, kept gap-free per
meter, checked again by reconciliation, exported for an authority, shown on the receipt.

A record is kept exactly as the station sent it, whatever the check says: the law asks for
every signed packet, and a bad one is evidence too. The checks: the signature over the payload
bytes with the meter's key, the same key as that meter's earlier records, a billable
transaction (begin and end, status OK, no error flags), the session named in the record.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from backend.models import ChargingSession, OcmfStored, table_of
from backend.schemas import OcmfIn, SessionReport
from kiosk.ocmf import OcmfError, parse_ocmf
from kiosk.ocmf.check import check_transaction, pagination_gaps, signed_energy_wh
from kiosk.ocmf.crypto import load_public_key, public_key_hex, verify

_TABLE = table_of(OcmfStored)


def check_record(
    text: str | None, public_key: str | None, session_id: str | None = None
) -> tuple[bool, str, int | None]:
    """(signature verifies, problems ("" if none), signed energy in Wh or None)."""
    if text is None:
        return False, "no signed record", None
    try:
        record = parse_ocmf(text)
        if not public_key:
            return False, "no public key for the meter", None
        if not verify(record, public_key):
            return False, "the signature does not verify", None
    except OcmfError as exc:
        return False, str(exc), None
    problems = [str(f) for f in check_transaction(record)]
    named = record.payload.get("ID")
    if session_id is not None and named != session_id:
        problems.append(f"the record names session {named!r}")
    if problems:
        return True, "; ".join(problems), None
    return True, "", int(signed_energy_wh(record))


def _normal_key(key: str | None) -> str | None:
    if not key:
        return None
    try:
        return public_key_hex(load_public_key(key))
    except OcmfError:
        return key


def store_records(
    conn: Connection, station_id: str, session_pk: int, report: SessionReport, now: datetime
) -> None:
    """In the transaction that stores the session: one row per reported record."""
    for item in report.ocmf:
        _store_one(conn, station_id, session_pk, report.session_id, item=item, now=now)


def _store_one(
    conn: Connection,
    station_id: str,
    session_pk: int,
    session_id: str,
    *,
    item: OcmfIn,
    now: datetime,
) -> None:
    key = _normal_key(item.public_key)
    verified, problems, energy = check_record(item.record, key, session_id)
    number = None
    if item.record is not None:
        try:
            number = parse_ocmf(item.record).pagination[1]
        except OcmfError:
            number = None
    earlier = conn.execute(
        select(_TABLE.c.public_key)
        .where(_TABLE.c.meter_serial == item.meter_serial, _TABLE.c.public_key.is_not(None))
        .limit(1)
    ).scalar_one_or_none()
    if key is not None and earlier is not None and earlier != key:
        verified = False
        problems = "; ".join(p for p in (problems, "the meter's public key changed") if p)
    if number is not None:
        # A meter numbers its records once: a second T<n> (a replaced or reset meter, a copied
        # record) is kept as evidence, outside the meter's numbering, and flagged; refusing it
        # would leave the station's outbox stuck on a report it cannot change.
        holder = conn.execute(
            select(ChargingSession.session_id)
            .join(_TABLE, _TABLE.c.session_pk == ChargingSession.pk)
            .where(_TABLE.c.meter_serial == item.meter_serial, _TABLE.c.transaction_no == number)
        ).scalar_one_or_none()
        if holder is not None:
            clash = f"meter {item.meter_serial} already sent T{number} (session {holder})"
            problems = "; ".join(p for p in (problems, clash) if p)
            number = None
    conn.execute(
        insert(_TABLE),
        {
            "station_id": station_id,
            "session_pk": session_pk,
            "meter_serial": item.meter_serial,
            "transaction_no": number,
            "record": item.record,
            "public_key": key,
            "verified": verified,
            "problems": problems,
            "signed_energy_wh": energy,
            "kiosk_flags": {"flags": item.flags, "detail": item.detail},
            "received_at": now,
        },
    )


# --------------------------------------------------------------------------- reconciliation


def discrepancies(
    s: Session, start: datetime, end: datetime, station: str | None
) -> list[tuple[str, datetime, str, str, str, dict[str, Any]]]:
    """(class, session end, station, currency, message, reference) for the period's sessions,
    plus the pagination gaps of every meter seen in the period.

    Classes: ocmf_missing, ocmf_invalid, ocmf_gap, ocmf_energy_mismatch."""
    cs = ChargingSession
    stmt = (
        select(OcmfStored, cs.session_id, cs.ended_at, cs.currency, cs.meter_start_wh)
        .add_columns(cs.meter_end_wh)
        .join(cs, cs.pk == OcmfStored.session_pk)
        .where(cs.ended_at >= start, cs.ended_at < end)
    )
    if station is not None:
        stmt = stmt.where(OcmfStored.station_id == station)
    found: list[tuple[str, datetime, str, str, str, dict[str, Any]]] = []
    meters: dict[str, tuple[datetime, str, str]] = {}
    for row, sid, ended, currency, m_start, m_end in s.execute(stmt).all():
        ref = {
            "type": "ocmf",
            "session_id": sid,
            "meter_serial": row.meter_serial,
            "transaction_no": row.transaction_no,
        }
        where = (ended, row.station_id, currency)
        meters.setdefault(row.meter_serial, where)
        if row.record is None:
            why = row.kiosk_flags.get("detail") or "no signed record"
            found.append(("ocmf_missing", *where, f"session {sid}: {why}", ref))
            continue
        # Checked again from the stored text: a record changed since ingest is caught here.
        verified, problems, energy = check_record(row.record, row.public_key, sid)
        if not verified or problems or row.problems:
            why = problems or row.problems or "the signature does not verify"
            found.append(("ocmf_invalid", *where, f"session {sid}: {why}", ref))
            continue
        booked = m_end - m_start
        if energy is not None and energy != booked:
            msg = f"session {sid}: booked {booked} Wh, the meter signed {energy} Wh"
            found.append(("ocmf_energy_mismatch", *where, msg, {**ref, "booked_wh": booked}))
    for serial, where in meters.items():
        numbers = s.scalars(
            select(OcmfStored.transaction_no).where(
                OcmfStored.meter_serial == serial, OcmfStored.transaction_no.is_not(None)
            )
        ).all()
        for first, last in pagination_gaps(n for n in numbers if n is not None):
            span = f"T{first}" if first == last else f"T{first}..T{last}"
            msg = f"meter {serial}: no record {span} (a signed packet was not stored)"
            ref = {"type": "ocmf", "meter_serial": serial, "missing": [first, last]}
            found.append(("ocmf_gap", *where, msg, ref))
    return found


# --------------------------------------------------------------------------- hand-over


def export_records(s: Session, meter_serial: str | None = None) -> dict[str, Any]:
    """Every stored record per meter in transaction order, with the gaps: for an authority."""
    stmt = select(OcmfStored, ChargingSession.session_id).join(
        ChargingSession, ChargingSession.pk == OcmfStored.session_pk
    )
    if meter_serial is not None:
        stmt = stmt.where(OcmfStored.meter_serial == meter_serial)
    by_meter: dict[str, list[dict[str, Any]]] = {}
    for row, sid in s.execute(stmt.order_by(OcmfStored.meter_serial, OcmfStored.pk)).all():
        by_meter.setdefault(row.meter_serial, []).append(
            {
                "transaction_no": row.transaction_no,
                "session_id": sid,
                "station_id": row.station_id,
                "record": row.record,
                "public_key": row.public_key,
                "verified": row.verified,
                "problems": row.problems,
                "received_at": row.received_at.isoformat(),
            }
        )
    meters = []
    for serial, records in by_meter.items():
        records.sort(key=lambda r: (r["transaction_no"] is None, r["transaction_no"] or 0))
        numbers = [r["transaction_no"] for r in records if r["transaction_no"] is not None]
        keys = sorted({r["public_key"] for r in records if r["public_key"]})
        meters.append(
            {
                "meter_serial": serial,
                "public_keys": keys,
                "records": records,
                "gaps": [list(g) for g in pagination_gaps(numbers)],
            }
        )
    return {"format": "OCMF", "meters": meters}


def receipt_records(s: Session, session_pk: int) -> list[dict[str, Any]]:
    """What the receipt offers the driver: the record and the meter's key, as the
    Transparenzsoftware reads them (record text: OCMF|…|…; key: DER hex)."""
    rows = s.scalars(
        select(OcmfStored).where(OcmfStored.session_pk == session_pk).order_by(OcmfStored.pk)
    ).all()
    return [
        {
            "meter_serial": r.meter_serial,
            "record": r.record,
            "public_key": r.public_key,
            "verified": r.verified and not r.problems,
            "energy": None
            if r.signed_energy_wh is None
            else f"{Decimal(r.signed_energy_wh) / 1000:.3f}",
            "detail": r.kiosk_flags.get("detail", ""),
        }
        for r in rows
    ]
