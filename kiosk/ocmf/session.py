"""A session on a signing meter, as the connector's meter owner thread runs it.

`begin` starts the meter's transaction with the connector's EVSE id and the tariff text the
kiosk shows; `finish` ends it, reads the record, journals it with the bill it yields, and only
then confirms the read to the meter. Whatever fails, the outcome is journaled and returned
(billed by the operator's rule and flagged), never hidden. `recover` runs at start-up: a
transaction a crashed kiosk left running is ended and its record journaled, as is a record that
was signed but not yet read when the kiosk died.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from kiosk.devices import DeviceError
from kiosk.journal.store import Journal
from kiosk.ocmf.billing import MissingRule, SignedBill, bill_from_record
from kiosk.ocmf.meter import SignedTransactionMeter, SignerIdentity, TransactionStart
from kiosk.ocmf.record import OcmfError, parse_ocmf

log = logging.getLogger(__name__)


class SignedMetering:
    def __init__(
        self,
        meter: SignedTransactionMeter,
        journal: Journal,
        *,
        connector_id: str,
        charge_point_id: str,
        rule: MissingRule = MissingRule.NO_ENERGY_CHARGE,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.meter = meter
        self.journal = journal
        self.connector_id = connector_id
        self.charge_point_id = charge_point_id
        self.rule = rule
        self._wall = wall
        self._identity: SignerIdentity | None = None

    @property
    def known_identity(self) -> SignerIdentity | None:
        """The identity once read (no device I/O)."""
        return self._identity

    def identity(self) -> SignerIdentity:
        if self._identity is None:
            self._identity = self.meter.identity()
        return self._identity

    def begin(self, session_id: str, tariff_text: str) -> None:
        """Raises `SigningError`/`DeviceError`: then no energy may flow on this connector."""
        if not self.identity().signing:
            raise DeviceError(f"connector {self.connector_id}: the meter has no signing key")
        self.meter.start_transaction(
            TransactionStart(session_id, self.charge_point_id, tariff_text)
        )

    def finish(self, session_id: str, tariff_text: str) -> SignedBill:
        ident = self.identity()
        text: str | None = None
        why = "the meter gave no signed record"
        try:
            self.meter.end_transaction(session_id)
            text = self.meter.read_record(session_id)
        except DeviceError as exc:
            why = f"no signed record: {exc}"
            log.error("connector %s, session %s: %s", self.connector_id, session_id, why)
        bill = bill_from_record(
            text,
            ident.public_key or "",
            tariff_text=tariff_text,
            charge_point_id=self.charge_point_id,
            rule=self.rule,
            missing_reason=why,
        )
        self._store(session_id, bill)
        if text is not None:
            self.meter.confirm_read()  # only now: the record is in the journal
        return bill

    def recover(self) -> SignedBill | None:
        """At start-up, before any new session on this connector."""
        text = self.meter.recover()
        if text is None:
            return None
        ident = self.identity()
        # The record names its session and tariff text; compare those when the session closes.
        bill = bill_from_record(
            text,
            ident.public_key or "",
            tariff_text=_field(text, "TT"),
            charge_point_id=self.charge_point_id,
            rule=self.rule,
        )
        session_id = None if bill.record is None else bill.record.payload.get("ID")
        self._store(session_id if isinstance(session_id, str) else None, bill)
        self.meter.confirm_read()
        log.warning(
            "connector %s: collected a signed record at start-up (%s)",
            self.connector_id,
            bill.detail,
        )
        return bill

    def _store(self, session_id: str | None, bill: SignedBill) -> None:
        ident = self.identity()
        self.journal.store_ocmf_record(
            session_id=session_id,
            connector_id=self.connector_id,
            meter_serial=ident.serial,
            public_key=ident.public_key,
            bill=bill,
            at=self._wall(),
        )


def _field(text: str, key: str) -> str:
    try:
        value = parse_ocmf(text).payload.get(key)
    except OcmfError:
        return ""
    return value if isinstance(value, str) else ""
