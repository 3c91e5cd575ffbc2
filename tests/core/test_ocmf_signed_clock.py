"""Time-based prices of a signed session follow the meter's signed clock (Eichrecht: the
station clock is not calibrated). The readings' station times are moved onto the record's
begin and end; a record without a usable duration bills no time, flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.ocmf import parse_ocmf
from kiosk.ocmf.billing import Flag, SignedBill, bill_from_record
from kiosk.ocmf.crypto import sign_fields
from kiosk.ocmf.readings import signed_clock
from tests.core.test_ocmf import KEY, PUBLIC, fields

STATION = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
BEGIN = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # the meter's clock: three hours behind


def test_station_times_are_moved_onto_the_signed_begin_and_end_in_proportion() -> None:
    times = [STATION + timedelta(seconds=s) for s in (0, 600, 1200, 3600)]
    end = BEGIN + timedelta(minutes=30)  # the meter counted half the station's hour
    assert signed_clock(times, BEGIN, end) == [
        BEGIN,
        BEGIN + timedelta(minutes=5),
        BEGIN + timedelta(minutes=10),
        end,
    ]


def test_moved_times_are_whole_microseconds_rounded_half_up() -> None:
    times = [STATION, STATION + timedelta(microseconds=1), STATION + timedelta(microseconds=2)]
    # 1 of 2 µs on a 3 µs signed span is 1.5 µs: half up makes 2
    moved = signed_clock(times, BEGIN, BEGIN + timedelta(microseconds=3))
    assert moved == [BEGIN, BEGIN + timedelta(microseconds=2), BEGIN + timedelta(microseconds=3)]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_readings_at_one_instant_span_the_signed_duration(count: int) -> None:
    end = BEGIN + timedelta(minutes=7)
    moved = signed_clock([STATION] * count, BEGIN, end)
    assert moved == ([BEGIN] if count == 1 else [BEGIN] * (count - 1) + [end])


def _record(begin_tm: str, end_tm: str) -> str:
    base = fields()
    readings = base["RD"]
    assert isinstance(readings, list)
    readings[0]["TM"], readings[1]["TM"] = begin_tm, end_tm
    return sign_fields(base, KEY)


def _bill(text: str) -> SignedBill:
    return bill_from_record(
        text, PUBLIC, tariff_text="0,39 EUR/kWh", charge_point_id="DE*EVK*E0001*1"
    )


def test_the_bill_carries_the_signed_begin_and_end() -> None:
    bill = _bill(_record("2026-12-07T10:00:00,250+0100 I", "2026-12-07T10:42:30,000+0100 I"))
    assert bill.signed and bill.flags == ()
    assert bill.begin_at == datetime(2026, 12, 7, 9, 0, 0, 250_000, tzinfo=UTC)
    assert bill.end_at - bill.begin_at == timedelta(minutes=42, seconds=29.75)


@pytest.mark.parametrize(
    ("begin_tm", "end_tm"),
    [
        ("2026-12-07T10:00:00,000+0100 I", "2026-12-07T09:59:00,000+0100 I"),  # goes back
        ("2026-12-07T10:00:00,000+0100 I", "2026-12-07T10:30:00,000+0100 U"),  # restarted
        ("2026-12-07T10:00:00,000+0100 U", "2026-12-07T10:30:00,000+0100 I"),
    ],
)
def test_no_usable_signed_duration_bills_no_time_and_is_flagged(begin_tm: str, end_tm: str) -> None:
    bill = _bill(_record(begin_tm, end_tm))
    assert bill.signed and Flag.TIME_UNKNOWN in bill.flags
    assert bill.end_at == bill.begin_at  # never the station's duration


def test_a_signed_time_that_is_no_date_is_named() -> None:
    with pytest.raises(ValueError, match=r"RD\[0\]\.TM.*not a date and time"):
        parse_ocmf(_record("2026-13-07T10:00:00,000+0100 I", "2026-12-07T10:30:00,000+0100 I"))
