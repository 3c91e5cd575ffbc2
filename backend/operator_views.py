"""What the operator pages read: station health and a session's full trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from backend.db import Database
from backend.models import (
    AuditEvent,
    ChargingSession,
    Payment,
    PaymentLink,
    Refund,
    SettlementRecord,
    Station,
)


@dataclass(frozen=True)
class StationHealth:
    station_id: str
    name: str
    last_report: datetime | None
    report_age: timedelta | None
    last_lag: timedelta | None  # how long after its end the newest session was reported
    max_lag_24h: timedelta | None
    open_holds: int


def stations(db: Database, now: datetime) -> list[StationHealth]:
    C = ChargingSession
    since = now - timedelta(hours=24)
    out = []
    with db.read() as s:
        for st in s.scalars(select(Station).order_by(Station.id)):
            newest = s.execute(
                select(C.created_at, C.ended_at)
                .where(C.station_id == st.id)
                .order_by(C.created_at.desc())
                .limit(1)
            ).first()
            recent = s.execute(
                select(C.created_at, C.ended_at).where(C.station_id == st.id, C.created_at >= since)
            ).all()
            holds = s.scalar(
                select(func.count())
                .select_from(Payment)
                .where(
                    Payment.station_id == st.id,
                    Payment.status.in_(("authorized", "releasing")),
                )
            )
            out.append(
                StationHealth(
                    st.id,
                    st.name,
                    newest.created_at if newest else None,
                    now - newest.created_at if newest else None,
                    newest.created_at - newest.ended_at if newest else None,
                    max((r.created_at - r.ended_at for r in recent), default=None),
                    holds or 0,
                )
            )
    return out


def trail(db: Database, session_pk: int) -> dict[str, Any] | None:
    """Everything recorded about one session, oldest first within each kind."""
    with db.read() as s:
        session = s.get(ChargingSession, session_pk)
        if session is None:
            return None
        payments = list(
            s.scalars(select(Payment).where(Payment.session_pk == session_pk).order_by(Payment.id))
        )
        link = s.get(PaymentLink, session.link_id) if session.link_id else None
        refunds = list(
            s.scalars(select(Refund).where(Refund.session_pk == session_pk).order_by(Refund.id))
        )
        pay_ids = [p.id for p in payments]
        refs = [p.gateway_ref for p in payments if p.gateway_ref]
        settled = (
            list(
                s.scalars(
                    select(SettlementRecord)
                    .where(
                        or_(
                            SettlementRecord.payment_id.in_(pay_ids),
                            SettlementRecord.reference.in_(refs or [""]),
                        )
                    )
                    .order_by(SettlementRecord.booked_at)
                )
            )
            if pay_ids
            else []
        )
        subjects = [f"session:{session_pk}", *(f"refund:{r.id}" for r in refunds)]
        audit = list(
            s.scalars(
                select(AuditEvent).where(AuditEvent.subject.in_(subjects)).order_by(AuditEvent.id)
            )
        )
    return {
        "session": session,
        "payments": payments,
        "link": link,
        "refunds": refunds,
        "settlement": settled,
        "audit": audit,
    }


def sessions_of_day(
    db: Database, start: datetime, end: datetime, station: str | None
) -> list[ChargingSession]:
    C = ChargingSession
    stmt = select(C).where(C.ended_at >= start, C.ended_at < end).order_by(C.ended_at).limit(500)
    if station:
        stmt = stmt.where(C.station_id == station)
    with db.read() as s:
        return list(s.scalars(stmt))
