"""What a session on a signing meter is billed for: signed end minus signed begin, or the rule.

No substitute values: when the record is missing, does not verify, fails a verifier's check, or
carries another tariff text or charge point than the kiosk showed, the energy is not taken from
the live readings; the operator's rule applies (`no_energy_charge`: bill nothing for energy)
and the session is flagged with why. Live readings stay what the screen calls them: informative.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from kiosk.ocmf.check import check_transaction, end_reading
from kiosk.ocmf.record import OcmfError, OcmfRecord, parse_ocmf


class MissingRule(enum.Enum):
    """The operator's rule for a session whose signed end reading is missing or unusable."""

    # Energy billed as 0 Wh; with no energy the kiosk charges nothing at all (common.final_amount)
    NO_ENERGY_CHARGE = "no_energy_charge"


class Flag(enum.Enum):
    NO_RECORD = "no_record"  # the meter gave no record (end failed, link lost)
    UNREADABLE = "unreadable"  # not OCMF
    INVALID_SIGNATURE = "invalid_signature"
    NOT_BILLABLE = "not_billable"  # no begin/end, status not G, error flags, values went back
    TARIFF_TEXT_DIFFERS = "tariff_text_differs"  # TT is not the text the kiosk showed
    CHARGE_POINT_DIFFERS = "charge_point_differs"  # CI is not this connector's EVSE id
    FRACTIONAL_WH = "fractional_wh"  # signed energy finer than 1 Wh: rounded down
    # The begin or end time is unknown to the meter (U) or goes back: no signed duration, so
    # time-based price components bill no time (the station clock is never used instead)
    TIME_UNKNOWN = "signed_time_unknown"


@dataclass(frozen=True, slots=True)
class SignedBill:
    energy_wh: int  # what is billed
    signed: bool  # energy_wh is end minus begin of a verified record
    flags: tuple[Flag, ...]
    detail: str  # a sentence for the report and the service log
    record: OcmfRecord | None
    rule: MissingRule | None  # the rule applied, when not signed
    # The signed begin and end by the meter's clock: time-based prices are timed by them
    begin_at: datetime | None = None
    end_at: datetime | None = None


def bill_from_record(
    text: str | None,
    public_key: str,
    *,
    tariff_text: str,
    charge_point_id: str,
    rule: MissingRule = MissingRule.NO_ENERGY_CHARGE,
    missing_reason: str = "the meter gave no signed record",
) -> SignedBill:
    def by_rule(flag: Flag, why: str, record: OcmfRecord | None = None) -> SignedBill:
        return SignedBill(0, False, (flag,), f"{why}: billed by rule {rule.value}", record, rule)

    if text is None:
        return by_rule(Flag.NO_RECORD, missing_reason)
    # cryptography is loaded when a signed record is first checked, not at every start
    from kiosk.ocmf.crypto import verify  # noqa: PLC0415

    try:
        record = parse_ocmf(text)
        valid = verify(record, public_key)
    except OcmfError as exc:
        return by_rule(Flag.UNREADABLE, f"the signed record is unreadable ({exc})")
    if not valid:
        return by_rule(Flag.INVALID_SIGNATURE, "the record's signature does not verify", record)
    findings = check_transaction(record)
    if findings:
        why = "; ".join(str(f) for f in findings)
        return by_rule(Flag.NOT_BILLABLE, f"the record cannot be billed ({why})", record)
    if record.tariff_text != tariff_text:
        why = f"the signed tariff text {record.tariff_text!r} is not the shown {tariff_text!r}"
        return by_rule(Flag.TARIFF_TEXT_DIFFERS, why, record)
    if record.charge_point != charge_point_id:
        why = f"the record names charge point {record.charge_point!r}, not {charge_point_id!r}"
        return by_rule(Flag.CHARGE_POINT_DIFFERS, why, record)
    begin = next(r for r in record.readings if r.reason == "B")
    end = end_reading(record)
    assert end is not None  # check_transaction found it
    exact = end.wh - begin.wh
    energy = int(exact.to_integral_value(rounding=ROUND_FLOOR))
    flags = [Flag.FRACTIONAL_WH] if Decimal(energy) != exact else []
    begin_at, end_at = begin.at, end.at
    if "U" in (begin.time_sync, end.time_sync) or end_at < begin_at:
        flags.append(Flag.TIME_UNKNOWN)
        end_at = begin_at
    detail = f"signed {begin.value_text} → {end.value_text} {end.unit} ({record.pagination[0]}"
    detail = f"{detail}{record.pagination[1]}, {begin.time} {begin.time_sync} → {end.time}"
    detail = f"{detail} {end.time_sync})"
    return SignedBill(energy, True, tuple(flags), detail, record, None, begin_at, end_at)
