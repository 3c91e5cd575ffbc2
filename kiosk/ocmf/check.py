"""What a verifier checks in a transaction record and in a meter's series of records.

One record of a charging session must hold a begin (`TX` B) and an end (`TX` E) reading of the
same quantity, with meter status G ("OK") and no error flags, and values that never go back.
The booked energy is end minus begin, exactly (Decimal Wh). A meter's records are numbered
`T<n>` without gaps; a missing number means a signed packet was lost.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from kiosk.ocmf.record import OcmfError, OcmfRecord, Reading


class Problem(enum.Enum):
    NO_BEGIN = "no begin reading (TX B)"
    NO_END = "no end reading (TX E)"
    STATUS = "a reading's meter status is not G (OK)"
    ERROR_FLAGS = "a reading carries error flags"
    WENT_BACK = "a reading is lower than the one before it"
    MIXED = "readings of different units or OBIS ids"
    NOT_ENERGY = "the readings are not energy"


@dataclass(frozen=True, slots=True)
class Finding:
    problem: Problem
    detail: str

    def __str__(self) -> str:
        return f"{self.problem.value}: {self.detail}"


def check_transaction(record: OcmfRecord) -> list[Finding]:
    """Everything that keeps this record from being billed; empty when it is sound."""
    found: list[Finding] = []
    rd = record.readings
    if not any(r.reason == "B" for r in rd):
        found.append(Finding(Problem.NO_BEGIN, f"{len(rd)} reading(s)"))
    if not any(r.reason == "E" for r in rd):
        found.append(Finding(Problem.NO_END, f"{len(rd)} reading(s)"))
    for i, r in enumerate(rd):
        if r.status != "G":
            found.append(Finding(Problem.STATUS, f"RD[{i}].ST = {r.status}"))
        if r.error_flags:
            found.append(Finding(Problem.ERROR_FLAGS, f"RD[{i}].EF = {r.error_flags}"))
        if i and r.value < rd[i - 1].value and r.unit == rd[i - 1].unit:
            found.append(
                Finding(Problem.WENT_BACK, f"RD[{i}] {r.value_text} < {rd[i - 1].value_text}")
            )
    if len({(r.unit, r.obis) for r in rd}) > 1:
        found.append(Finding(Problem.MIXED, ", ".join(sorted({r.unit for r in rd}))))
    if any(r.unit not in ("kWh", "Wh") for r in rd):
        found.append(Finding(Problem.NOT_ENERGY, ", ".join(sorted({r.unit for r in rd}))))
    return found


def _one(record: OcmfRecord, reason: str) -> Reading | None:
    matching = [r for r in record.readings if r.reason == reason]
    return matching[0] if reason == "B" else (matching[-1] if matching else None)


def begin_reading(record: OcmfRecord) -> Reading | None:
    return _one(record, "B")


def end_reading(record: OcmfRecord) -> Reading | None:
    return _one(record, "E")


def signed_energy_wh(record: OcmfRecord) -> Decimal:
    """End minus begin in Wh, exactly; `OcmfError` if the record cannot be billed from."""
    findings = check_transaction(record)
    if findings:
        raise OcmfError("payload.RD", "; ".join(str(f) for f in findings))
    begin, end = begin_reading(record), end_reading(record)
    assert begin is not None and end is not None  # check_transaction found both
    return end.wh - begin.wh


def pagination_gaps(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Missing runs `(first, last)` in a meter's transaction numbers, e.g. [(5, 6)]."""
    ordered = sorted(set(numbers))
    gaps: list[tuple[int, int]] = []
    for prev, cur in itertools.pairwise(ordered):
        if cur > prev + 1:
            gaps.append((prev + 1, cur - 1))
    return gaps
