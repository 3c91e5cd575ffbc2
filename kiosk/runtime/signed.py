"""Sessions on signing meters (Eichrecht): begin, end and bill on the meter's owner thread.

The machine asks for the signed transaction's begin before charging is enabled and for its
end once charging is off; the jobs here run `kiosk.ocmf.session.SignedMetering` on the owner
thread of the connector's meter and post the outcome. The outcome is priced on the machine
thread (`price`) from the journaled readings re-based onto the signed energy, the same values
the session report carries, so the kiosk's and the backend's amounts agree. At start-up
(`recover`) a transaction a crashed kiosk left running is ended and its record journaled; the
session's end then bills from that record instead of asking the meter again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from kiosk.devices import DeviceError, MeterReading
from kiosk.journal.store import Journal, JournalError
from kiosk.ocmf.billing import SignedBill, bill_from_record
from kiosk.ocmf.readings import billed_energies, signed_clock
from kiosk.ocmf.session import SignedMetering
from kiosk.ocmf.tariff_text import tariff_text
from kiosk.runtime.costs import CostModel
from kiosk.runtime.devices import SigningSetup
from kiosk.session import events as ev
from kiosk.session.commands import BeginSignedTransaction, EndSignedTransaction
from kiosk.session.model import Session, SignedOutcome
from kiosk.snapshot import SigningMeterView

log = logging.getLogger(__name__)


def outcome_of(bill: SignedBill) -> SignedOutcome:
    return SignedOutcome(
        bill.energy_wh,
        bill.signed,
        tuple(f.value for f in bill.flags),
        bill.detail,
        begin_at=bill.begin_at,
        end_at=bill.end_at,
    )


@dataclass(frozen=True, slots=True)
class SignedParts:
    """What sessions on signing meters need of the runtime."""

    signing: Mapping[str, SigningSetup]  # by connector id
    journal: Journal
    now: Callable[[], datetime]
    post: Callable[[ev.Event], None]
    session: Callable[[str], Session | None]  # the station's session by id, as it is now
    costs: CostModel
    language: str  # the station's first language: the one `TT` is worded in


class SignedSessions:
    def __init__(self, parts: SignedParts) -> None:
        self.parts = parts
        self.metering = {
            cid: SignedMetering(
                setup.meter,
                parts.journal,
                connector_id=cid,
                charge_point_id=setup.charge_point_id,
                rule=setup.rule,
                wall=parts.now,
            )
            for cid, setup in parts.signing.items()
        }
        self._problems: dict[str, str] = {}  # connector id -> why its meter did not answer

    def tariff_text(self, s: Session) -> str:
        """What the meter signs as `TT`: the session's prices as the price screen words them."""
        return tariff_text(s.offer, self.parts.language)

    def job(self, command: BeginSignedTransaction | EndSignedTransaction) -> Callable[[], None]:
        parts = self.parts
        metering = self.metering.get(command.connector_id)
        session = parts.session(command.session_id)
        sid = command.session_id
        text = "" if session is None else self.tariff_text(session)

        def begin() -> None:
            try:
                if metering is None:
                    raise DeviceError(f"connector {command.connector_id}: no signing meter")
                metering.begin(sid, text)
            except (DeviceError, OSError) as exc:
                parts.post(ev.SignedBegun(parts.now(), sid, False, str(exc) or type(exc).__name__))
                return
            parts.post(ev.SignedBegun(parts.now(), sid, True))

        def end() -> None:
            parts.post(ev.SignedEnded(parts.now(), sid, self._end(metering, sid, text)))

        return begin if isinstance(command, BeginSignedTransaction) else end

    def _end(self, metering: SignedMetering | None, sid: str, text: str) -> SignedOutcome:
        if metering is None:
            return SignedOutcome(0, False, ("no_record",), "no signing meter on this connector")
        try:
            stored = self.parts.journal.ocmf_record_of(sid)
            if stored is not None:
                # Collected at start-up (the kiosk died before reading it): bill from it.
                record, key = stored
                ident = metering.identity()
                bill = bill_from_record(
                    record,
                    key or ident.public_key or "",
                    tariff_text=text,
                    charge_point_id=metering.charge_point_id,
                    rule=metering.rule,
                )
            else:
                bill = metering.finish(sid, text)
        except (DeviceError, OSError, JournalError) as exc:
            why = f"no signed record: {exc}"
            log.error("session %s: %s", sid, why)
            return SignedOutcome(0, False, ("no_record",), f"{why}: billed by rule")
        return outcome_of(bill)

    def price(self, event: ev.SignedEnded) -> ev.SignedEnded:
        """The outcome's energy priced with the session's tariff over its time profile."""
        session = self.parts.session(event.session_id)
        if session is None or session.meter_start is None or event.outcome.cost_minor is not None:
            return event
        stored = self.parts.journal.readings(session.session_id)
        readings = [(r.reading, r.charging) for r in stored] or [(session.meter_start, True)]
        values = billed_energies([r.energy_import_wh for r, _ in readings], event.outcome.energy_wh)
        if len(values) > len(readings):
            ended = session.ended_at or event.at
            readings.append((MeterReading(max(ended, readings[-1][0].measured_at), 0), True))
        times = [r.measured_at for r, _ in readings]
        outcome = event.outcome
        if outcome.begin_at is not None and outcome.end_at is not None:
            times = signed_clock(times, outcome.begin_at, outcome.end_at)
        billed = [
            (replace(r, measured_at=at, energy_import_wh=value), charging)
            for (r, charging), at, value in zip(readings, times, values, strict=True)
        ]
        tracker = self.parts.costs.start(session.offer.tariff_json, billed[0][0])
        cost = 0
        for reading, charging in billed[1:]:
            cost = tracker.add(reading, charging)
        outcome = replace(event.outcome, cost_minor=cost, cost_lines=tracker.lines())
        return replace(event, outcome=outcome)

    def recover(self) -> None:
        """At start-up, before any session is resumed and before orphan holds are swept; the
        meter's identity is read here too (for the service menu and every record)."""
        for cid, metering in self.metering.items():
            try:
                ident = metering.identity()
                if not ident.signing:
                    self._problems[cid] = "the meter has no signing key"
                metering.recover()
            except (DeviceError, OSError, JournalError) as exc:
                self._problems[cid] = str(exc) or type(exc).__name__
                log.error("connector %s: signing meter not recovered (%s)", cid, exc)

    def views(self) -> tuple[SigningMeterView, ...]:
        """What each signing meter said about itself (no device I/O: the machine thread)."""
        out = []
        for cid, metering in sorted(self.metering.items()):
            ident = metering.known_identity
            problem = self._problems.get(cid)
            if ident is None:
                out.append(SigningMeterView(cid, problem=problem or "not asked yet"))
                continue
            out.append(
                SigningMeterView(
                    cid,
                    ident.model,
                    ident.serial,
                    ident.firmware,
                    ident.public_key,
                    ident.signing,
                    problem,
                )
            )
        return tuple(out)
