"""What the operator's CSMS is told about one machine step, as OCPP 2.1 payloads (plain data).

A session becomes an OCPP transaction when its money is authorised (C18: the terminal's
pre-authorisation; the idToken is the payment reference, type DirectPayment, with the hold as
`transactionLimit.maxCost`). Its charging-state changes and, while it charges, its meter
values every `meter_interval` become TransactionEvent Updated; it ends (TransactionEvent
Ended, with the local cost from our tariff engine in `costDetails`) when it leaves charging
for settlement, and once the money is final, NotifySettlement says what was booked (C21
Settled), released (C20 Canceled: the car never drew), refused by the terminal (C22
Rejected) or is not known (C22 Failed).

Pure: the journal calls `calls()` inside the transaction that records the step, so a step and
what the CSMS must hear of it are durable together or not at all. The core imports no OCPP
library; the driver sends these payloads as they are.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kiosk.devices import IecState, MeterReading
from kiosk.journal.csms_cost import PricedSoFar, charging_periods, cost_parts, idle_seconds
from kiosk.money import minor_unit_exponent
from kiosk.session.commands import CloseSession, Command
from kiosk.session.events import Event, MeterUpdate
from kiosk.session.model import Authorisation, Session, Station, mask_pan
from kiosk.session.names import PaymentMethod, Phase, StopReason

Payload = dict[str, Any]

_ENDED = frozenset({Phase.SETTLING, Phase.RECEIPT, Phase.FAILED, Phase.CLOSED})
_METERING = frozenset({Phase.STARTING, Phase.CHARGING})
_PLUGGED = frozenset({IecState.B, IecState.C, IecState.D})

# StopReason -> (TransactionEvent triggerReason, transactionInfo.stoppedReason)
_STOPS: dict[StopReason | None, tuple[str, str]] = {
    StopReason.DRIVER: ("StopAuthorized", "Local"),
    StopReason.CANCELLED: ("StopAuthorized", "Local"),
    StopReason.VEHICLE: ("ChargingStateChanged", "StoppedByEV"),
    StopReason.COST_CAP: ("CostLimitReached", "LocalOutOfCredit"),
    StopReason.METER_FAULT: ("AbnormalCondition", "Other"),
    StopReason.CONTROLLER_FAULT: ("AbnormalCondition", "Other"),
    StopReason.EMERGENCY: ("AbnormalCondition", "EmergencyStop"),
    StopReason.PLUG_TIMEOUT: ("EVConnectTimeout", "Timeout"),
    StopReason.RECOVERY: ("AbnormalCondition", "Reboot"),
    None: ("AbnormalCondition", "Other"),
}


@dataclass(frozen=True, slots=True)
class CsmsCall:
    """One message for the CSMS. A TransactionEvent gets its seqNo when it is queued."""

    action: str  # "TransactionEvent" | "NotifySettlement"
    kind: str  # started | updated | periodic | ended | settled | canceled | rejected | failed
    session_id: str
    transaction_id: str
    payload: Payload


@dataclass(frozen=True, slots=True)
class CsmsFeed:
    evse_ids: Mapping[str, int] = field(default_factory=dict)  # connector id -> EVSE id
    meter_interval: timedelta = timedelta(seconds=60)
    # The engine's cost of a running session so far, by session id (I07–I12 per dimension).
    priced: Callable[[str], PricedSoFar | None] | None = None
    # Whether the CSMS stopped this transaction (RequestStopTransaction), by transaction id.
    remote_stopped: Callable[[str], bool] | None = None

    def calls(
        self,
        event: Event,
        before: Station,
        after: Station,
        commands: Sequence[Command],
        last_meter_at: Callable[[str], datetime | None],
    ) -> list[CsmsCall]:
        closing = {c.session.session_id: c.session for c in commands if isinstance(c, CloseSession)}
        out: list[CsmsCall] = []
        ids = [s.session_id for s in after.sessions]
        ids += [sid for sid in closing if sid not in ids]
        for sid in ids:
            new = closing.get(sid) or after.session(sid)
            old = before.session(sid)
            if new is None or new.auth is None:
                continue  # no money authorised: no OCPP transaction
            if not in_transaction(new):
                if sid in closing:  # C19: the CSMS did not accept it; the hold was released
                    out.append(settlement(new, event.at))
                continue  # the CSMS has not accepted the payment (yet): no transaction
            if old is not None and not in_transaction(old):
                old = None  # accepted in this step: the transaction starts now
            out.extend(
                self._session(
                    event, before=before, after=after, old=old, new=new, last_meter_at=last_meter_at
                )
            )
            if sid in closing and _settled_here(new):
                out.append(settlement(new, event.at))
        return out

    def _session(
        self,
        event: Event,
        *,
        before: Station,
        after: Station,
        old: Session | None,
        new: Session,
        last_meter_at: Callable[[str], datetime | None],
    ) -> Iterable[CsmsCall]:
        at = event.at
        state = charging_state(after, new)
        if old is None or old.auth is None:
            yield self._started(after, new, at, state)
            if _ended(new):
                yield self._ended(after, new, at)
            return
        if _ended(new):
            if not _ended(old):
                yield self._ended(after, new, at)
            return
        was = charging_state(before, old)
        if state != was:
            trigger = "CablePluggedIn" if was == "Idle" else "ChargingStateChanged"
            yield _tx_event(new, "Updated", "updated", at, trigger, {"chargingState": state})
        if (
            isinstance(event, MeterUpdate)
            and event.connector_id == new.connector_id
            and new.phase in _METERING
            and new.last_reading is not None
            and new.last_reading != old.last_reading
        ):
            last = last_meter_at(new.session_id)
            if last is None or at - last >= self.meter_interval:
                yield _tx_event(
                    new,
                    "Updated",
                    "periodic",
                    at,
                    "MeterValuePeriodic",
                    {"chargingState": state},
                    meterValue=[meter_value(new.last_reading, "Sample.Periodic")],
                    costDetails=cost_details(new, new.cost_minor, at, self._priced(new)),
                )

    def _priced(self, s: Session) -> PricedSoFar | None:
        if self.priced is None or s.energy_wh <= 0:
            return None  # without energy nothing is booked, so no part is reported
        return self.priced(s.session_id)

    def _started(self, st: Station, s: Session, at: datetime, state: str) -> CsmsCall:
        auth = s.auth
        assert auth is not None
        extra: Payload = {
            "evse": {"id": self.evse_ids.get(s.connector_id, 1), "connectorId": 1},
            "idToken": id_token(auth),
        }
        reading = s.meter_start or st.live_of(s.connector_id).reading
        if reading is not None:
            extra["meterValue"] = [meter_value(reading, "Transaction.Begin")]
        info: Payload = {
            "chargingState": state,
            # The cost at which the station stops: its hold (C18), or for a session the CSMS
            # paid for (C25) the same amount as the cap it is charged up to.
            "transactionLimit": {"maxCost": major(auth.amount_minor, auth.currency)},
            "tariffId": s.offer.tariff_id[:60],  # the tariff the session froze (2.1)
        }
        trigger = "Authorized"
        if auth.method is PaymentMethod.CSMS:
            trigger = "RemoteStart"
            if auth.remote_start_id is not None:
                info["remoteStartId"] = auth.remote_start_id
        return _tx_event(s, "Started", "started", at, trigger, info, **extra)

    def _ended(self, st: Station, s: Session, at: datetime) -> CsmsCall:
        trigger, reason = _STOPS.get(s.stop_reason, _STOPS[None])
        if s.stop_reason is StopReason.VEHICLE and charging_state(st, s) == "Idle":
            trigger, reason = "EVDeparted", "EVDisconnected"
        remote = self.remote_stopped
        if s.stop_reason is StopReason.DRIVER and remote is not None and remote(s.session_id):
            trigger, reason = "RemoteStop", "Remote"  # stopped as the Stop button, by the CSMS
        info: Payload = {"chargingState": charging_state(st, s), "stoppedReason": reason}
        extra: Payload = {"costDetails": cost_details(s, final_cost(s), at, self._priced(s))}
        if s.last_reading is not None:
            extra["meterValue"] = [meter_value(s.last_reading, "Transaction.End")]
        return _tx_event(s, "Ended", "ended", at, trigger, info, **extra)


def in_transaction(s: Session) -> bool:
    """An OCPP transaction exists for the session: its money is authorised and the CSMS was
    not asked to accept it (AuthorizeDirectPayment false) or accepted it."""
    return s.auth is not None and s.csms_auth in (None, "Accepted")


def _ended(s: Session) -> bool:
    return s.phase in _ENDED or s.closed


def _settled_here(s: Session) -> bool:
    """The station knows the money's end: the terminal booked or released the hold. A QR
    payment with a cost is captured by the backend when the session report arrives; its
    settlement is not the station's to announce (a released QR hold is)."""
    auth = s.auth
    if auth is not None and auth.method is PaymentMethod.CSMS:
        return False  # C25: the CSMS settles with its PSP; the station tells it the cost only
    if auth is None or auth.method is not PaymentMethod.QR:
        return True
    return s.settlement is not None and s.settlement.final_minor == 0


def final_cost(s: Session) -> int:
    """The cost the transaction ends with: what is (or was) sent to be booked."""
    if s.settlement is not None:
        return s.settlement.final_minor
    if s.settle_minor is not None:
        return s.settle_minor
    return s.cost_minor if s.energy_wh > 0 else 0


def settlement(s: Session, at: datetime) -> CsmsCall:
    """C20/C21/C22: what happened to the money, once it is final."""
    auth = s.auth
    assert auth is not None
    done = s.settlement
    amount = 0 if done is None else done.final_minor
    payload: Payload = {
        "pspRef": psp_ref(auth),
        "settlementAmount": major(amount, auth.currency),
        "settlementTime": at.isoformat(),
    }
    if in_transaction(s):  # C19: no transaction existed, so none is named
        payload["transactionId"] = s.session_id
    if done is not None and done.confirmed and amount > 0:
        kind, status = "settled", "Settled"
    elif done is not None and amount == 0:
        kind, status = "canceled", "Canceled"
        if s.csms_auth == "Pending":  # cancelled (or timed out) while the CSMS was asked
            payload["statusInfo"] = "released before the CSMS answered its Authorize"
        elif not in_transaction(s):
            payload["statusInfo"] = f"the CSMS did not accept the payment ({s.csms_auth})"
    elif done is not None and done.refused_code is not None:
        # C22: the terminal answered and refused; the amount is the one it was asked to book.
        kind, status = "rejected", "Rejected"
        payload["statusInfo"] = (
            f"the terminal refused the booking (result code {done.refused_code:02X}); "
            "the hold is left for capture with pspRef until the next end-of-day"
        )
    else:
        kind, status = "failed", "Failed"
        payload["statusInfo"] = "the terminal did not confirm the booking"
    payload["status"] = status
    if done is not None and done.receipt_no is not None:
        payload["receiptId"] = str(done.receipt_no)
    return CsmsCall("NotifySettlement", kind, s.session_id, s.session_id, payload)


def _tx_event(  # noqa: PLR0917 (the five parts every TransactionEvent has)
    s: Session,
    event_type: str,
    kind: str,
    at: datetime,
    trigger: str,
    info: Payload,
    **extra: Any,
) -> CsmsCall:
    payload: Payload = {
        "eventType": event_type,
        "timestamp": at.isoformat(),
        "triggerReason": trigger,
        "transactionInfo": {"transactionId": s.session_id, **info},
        **extra,
    }
    return CsmsCall("TransactionEvent", kind, s.session_id, s.session_id, payload)


def charging_state(st: Station, s: Session) -> str:
    if s.phase is Phase.CHARGING:
        return "SuspendedEV" if s.suspended_since is not None else "Charging"
    return "EVConnected" if st.live_of(s.connector_id).iec in _PLUGGED else "Idle"


def psp_ref(auth: Authorisation) -> str:
    """The payment's reference at the terminal (C18's PspRef): terminal id, trace and receipt
    number identify the pre-authorisation there; a QR payment's is its link id."""
    if auth.method is PaymentMethod.QR and auth.link_id:
        return auth.link_id
    if auth.method is PaymentMethod.CSMS and auth.reference:
        return auth.reference  # the CSMS's DirectPayment token (C25)
    parts = [auth.terminal_id or "terminal", str(auth.trace_no or 0), str(auth.receipt_no or 0)]
    return "-".join(parts)


def id_token(auth: Authorisation) -> Payload:
    token: Payload = {"idToken": psp_ref(auth), "type": "DirectPayment"}
    info = []
    masked = mask_pan(auth.masked_pan)  # again: whatever reached here, first 6 / last 4 at most
    if masked:
        info.append({"additionalIdToken": masked, "type": "MaskedPAN"})
    if auth.card_brand:
        info.append({"additionalIdToken": auth.card_brand[:255], "type": "CardBrand"})
    if info:
        token["additionalInfo"] = info
    return token


def major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_unit_exponent(currency))


def meter_value(reading: MeterReading, context: str) -> Payload:
    return {
        "timestamp": reading.measured_at.isoformat(),
        "sampledValue": [
            {
                "value": reading.energy_import_wh,
                "measurand": "Energy.Active.Import.Register",
                "context": context,
                "unitOfMeasure": {"unit": "Wh"},
            }
        ],
    }


def cost_details(
    s: Session, cost_minor: int, at: datetime, priced: PricedSoFar | None = None
) -> Payload:
    """I12: the local cost (our tariff engine's, incl. VAT) and what it was for; with the
    engine's breakdown, its parts per dimension and its charging periods (kiosk.journal.
    csms_cost)."""
    currency = s.offer.currency
    total: Payload = {"inclTax": major(cost_minor, currency)}
    rate = s.offer.vat_percent
    if rate is not None:  # the same net as the receipt's VAT line
        net = (Decimal(cost_minor) * 100 / (100 + rate)).quantize(Decimal(1), ROUND_HALF_UP)
        total["exclTax"] = major(int(net), currency)
    charging_s = 0
    if s.started_at is not None:
        end = s.ended_at or at
        charging_s = max(0, int((end - s.started_at).total_seconds()))
    details: Payload = {
        "totalCost": {"currency": currency, "typeOfCost": "NormalCost", "total": total},
        "totalUsage": {
            "energy": Decimal(s.energy_wh).scaleb(-3),
            "chargingTime": charging_s,
            "idleTime": 0,
        },
    }
    if priced is not None:
        details["totalCost"].update(cost_parts(priced, rate))
        details["totalUsage"]["idleTime"] = min(charging_s, idle_seconds(priced))
        periods = charging_periods(priced)
        if periods:
            details["chargingPeriods"] = periods
    return details


# A Decimal is written as a marked string, then unmarked. The mark holds a token drawn once per
# process: a string in a message (an id from the CSMS, say) cannot forge it and become a number.
_TOKEN = os.urandom(8).hex()  # not `secrets`: it loads hashlib, which the idle screen does not need
_NUMBER = re.compile(r'"\\u0000' + _TOKEN + r'(-?[0-9.E+-]+)\\u0000"')


def wire_json(payload: Payload) -> str:
    """JSON with every Decimal written as the exact number it is (12.30 stays 12.30), never
    through a float."""

    def decimal_marker(value: object) -> str:
        if isinstance(value, Decimal):
            return f"\0{_TOKEN}{value}\0"
        raise TypeError(f"cannot send a {type(value).__name__}")

    text = json.dumps(payload, default=decimal_marker, sort_keys=True, separators=(",", ":"))
    return _NUMBER.sub(r"\1", text)
