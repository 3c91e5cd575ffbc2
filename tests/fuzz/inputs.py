"""Hypothesis strategies for hostile input: mostly well-formed, with bad values planted.

A purely random JSON object never gets past the first field check, so the generators build
tariffs, CDRs, station files and scenarios that are valid in shape and then swap single values
for the kinds of input that broke parsers before: exponents (1E+999999), NaN and infinity,
{} and [] where a string belongs, NUL bytes and very long file names.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

EXTREME_DECIMALS = [
    Decimal("1E+999999"),
    Decimal("-1E+999999"),
    Decimal("1E-999999"),
    Decimal("1.1E+27"),
    Decimal("3.3E+26"),
    Decimal("1E+28"),
    Decimal("0.000000000000000000000000000001"),
    Decimal("99999999999999999999999999999999"),
    Decimal("-0"),
    Decimal("0.00001"),
    Decimal("1000000000.0001"),
]
ODD_STRINGS = ["NaN", "Infinity", "-inf", "1e309", "0x10", " 1 ", "", "1_000", "١٢", "1E+999999"]

hostile_numbers = st.one_of(
    st.sampled_from(EXTREME_DECIMALS),
    st.integers(-(10**30), 10**30),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from(ODD_STRINGS),
    st.floats(),
)
hostile_values: st.SearchStrategy[object] = st.one_of(
    hostile_numbers,
    st.none(),
    st.booleans(),
    st.just({}),
    st.just([]),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.lists(st.integers(), max_size=2),
    st.text(max_size=12),
)


_ONE_IN_EIGHT = st.integers(0, 7).map(lambda n: n == 0)


def sometimes_bad(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly ``good``, about one draw in eight a hostile value."""
    # Not st.one_of(good, hostile_values): one_of flattens the nested one_of and picks among
    # all branches alike, which makes nearly every value hostile and the parser stop at once.
    return st.tuples(_ONE_IN_EIGHT, good, hostile_values).map(lambda t: t[2] if t[0] else t[1])


def prices(places: int = 4) -> st.SearchStrategy[Decimal]:
    return st.integers(0, 10**6).map(lambda n: Decimal(n).scaleb(-places))


def _clock() -> st.SearchStrategy[str]:
    return st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"{t[0]:02}:{t[1]:02}")


# Strategies are built once, here: building them inside every draw costs hypothesis more than
# the code under test (a tariff every 0.5 s instead of dozens a second).
_SMALL = st.integers(0, 15)
_EXTRA_KEY = st.text(max_size=6)


def _maybe_extra(draw: st.DrawFn, obj: dict[str, Any]) -> dict[str, Any]:
    """Drop a key or add an unknown one, now and then."""
    if obj and draw(_SMALL) == 0:
        obj.pop(sorted(obj)[draw(st.integers(0, len(obj) - 1))])
    if draw(_SMALL) == 0:
        obj[draw(_EXTRA_KEY)] = draw(hostile_values)
    return obj


def _optional(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict with any subset of ``fields``, each mostly good and sometimes hostile."""
    return st.fixed_dictionaries({}, optional={k: sometimes_bad(v) for k, v in fields.items()})


_RESTRICTIONS = _optional(
    {
        "start_time": _clock(),
        "end_time": _clock(),
        "start_date": st.dates().map(lambda d: d.isoformat()),
        "min_kwh": prices(2),
        "max_kwh": prices(2),
        "min_power": prices(1),
        "max_power": prices(1),
        "min_current": prices(1),
        "min_duration": st.integers(0, 10**5),
        "max_duration": st.integers(0, 10**5),
        "day_of_week": st.lists(st.sampled_from(["MONDAY", "SUNDAY", "FUNDAY"]), max_size=3),
        "reservation": st.sampled_from(["RESERVATION", "RESERVATION_EXPIRES"]),
    }
)
_COMPONENT = st.fixed_dictionaries(
    {
        "type": sometimes_bad(st.sampled_from(["ENERGY", "TIME", "PARKING_TIME", "FLAT"])),
        "price": sometimes_bad(prices()),
        "vat": sometimes_bad(st.integers(0, 30)),
        "step_size": sometimes_bad(st.sampled_from([0, 1, 60, 300, 900, 1000])),
    }
)
_LIMIT = st.fixed_dictionaries(
    {"excl_vat": sometimes_bad(prices(2))}, optional={"incl_vat": sometimes_bad(prices(2))}
)
_ELEMENTS = st.lists(
    st.fixed_dictionaries(
        {"price_components": st.lists(_COMPONENT, min_size=1, max_size=3)},
        optional={"restrictions": _RESTRICTIONS},
    ),
    min_size=1,
    max_size=4,
)
_TARIFF = st.fixed_dictionaries(
    {
        "id": st.just("FUZZ"),
        "currency": sometimes_bad(st.sampled_from(["EUR", "JPY", "KWD", "eur", "XXX"])),
        "elements": sometimes_bad(_ELEMENTS),
    },
    optional={
        k: sometimes_bad(v)
        for k, v in {
            "min_price": _LIMIT,
            "max_price": _LIMIT,
            "tax_included": st.sampled_from(["YES", "NO", "N/A"]),
            "preauthorize_amount": prices(2),
            "start_date_time": st.just("2025-01-01T00:00:00Z"),
            "end_date_time": st.just("2024-01-01T00:00:00+01:00"),
        }.items()
    },
)


@st.composite
def tariffs(draw: st.DrawFn) -> dict[str, Any]:
    return _maybe_extra(draw, draw(_TARIFF))


_DIMENSIONS = ["ENERGY", "TIME", "PARKING_TIME", "MAX_POWER", "MIN_CURRENT", "STATE_OF_CHARGE"]
_DIMENSION = st.fixed_dictionaries(
    {"type": sometimes_bad(st.sampled_from(_DIMENSIONS)), "volume": sometimes_bad(prices(3))}
)
_DIMENSION_LISTS = st.lists(_DIMENSION, min_size=1, max_size=3, unique_by=lambda d: str(d["type"]))
_OFFSETS = st.lists(st.integers(0, 3600), min_size=1, max_size=5)


@st.composite
def charging_periods(draw: st.DrawFn) -> list[dict[str, Any]]:
    """OCPI ChargingPeriods of a session that starts 2026-03-02T09:00Z and lasts an hour."""
    periods = []
    for offset in sorted(draw(_OFFSETS)):
        start: object = (
            f"2026-03-02T{9 + offset // 3600:02}:{offset % 3600 // 60:02}:{offset % 60:02}Z"
        )
        if draw(_SMALL) == 0:
            start = draw(hostile_values)
        period = {"start_date_time": start, "dimensions": draw(_DIMENSION_LISTS)}
        periods.append(_maybe_extra(draw, period))
    return periods


@st.composite
def cdrs(draw: st.DrawFn) -> dict[str, Any]:
    return _maybe_extra(
        draw,
        {
            "start_date_time": "2026-03-02T09:00:00Z",
            "end_date_time": draw(_CDR_END),
            "charging_periods": draw(_PERIODS),
        },
    )


_CDR_END = sometimes_bad(st.just("2026-03-02T10:00:00Z"))
_PERIODS = charging_periods()


# --------------------------------------------------------------------------- TOML files

TOML_VALUES = [
    "inf",
    "-inf",
    "nan",
    "1e300",
    "-1",
    "0",
    "1E+999",
    "9999999999999999999",
    "true",
    "{}",
    "[]",
    '"a\\u0000b"',
    '"' + "x" * 300 + '"',
    '"' + "a/" * 3000 + '"',
    '""',
    '"../../.."',
    "1979-05-27T07:32:00Z",
    "12:00:00",
    "0.5",
    '"tcp://"',
    "[1, 2]",
    "{ a = 1 }",
]


_EDITS = st.integers(1, 3)
_TOML_VALUE = st.one_of(st.sampled_from(TOML_VALUES), st.text(max_size=10).map(repr))
_LINE = st.text(max_size=30)


@st.composite
def toml_variants(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few `key = value` lines given hostile values, or lines moved."""
    lines = text.splitlines()
    keyed = [i for i, line in enumerate(lines) if "=" in line and not line.lstrip().startswith("#")]
    for _ in range(draw(_EDITS)):
        i = keyed[draw(st.integers(0, len(keyed) - 1))]
        key = lines[i].split("=", 1)[0]
        lines[i] = f"{key}= {draw(_TOML_VALUE)}"
    if draw(_SMALL) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(_LINE))
    if draw(_SMALL) == 0:
        del lines[draw(st.integers(0, len(lines) - 1))]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- OCMF records

_OCMF_TIMES = st.sampled_from(
    ["2026-12-07T10:00:00,000+0100 S", "2026-12-07T10:00:00,000+0100 I", "2026-12-07 10:00", ""]
)
_OCMF_VALUES = st.one_of(
    st.decimals(min_value=0, max_value=10**6, places=4), st.sampled_from(EXTREME_DECIMALS)
)


@st.composite
def _ocmf_reading(draw: st.DrawFn) -> dict[str, Any]:
    reading = {
        "TM": sometimes_bad(_OCMF_TIMES),
        "TX": sometimes_bad(st.sampled_from(["B", "C", "E", "B", "E", "Q"])),
        "RV": sometimes_bad(_OCMF_VALUES),
        "RI": sometimes_bad(st.just("1-b:1.8.0")),
        "RU": sometimes_bad(st.sampled_from(["kWh", "Wh", "mOhm", "kW"])),
        "EF": sometimes_bad(st.sampled_from(["", "E", "t", "Et", "x"])),
        "ST": sometimes_bad(st.sampled_from(["G", "G", "N", "Z"])),
    }
    # Rarely drop a field: later readings may omit fields, a first reading may not.
    return {k: draw(v) for k, v in reading.items() if draw(st.integers(0, 31)) != 0}


@st.composite
def ocmf_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """An OCMF payload valid in shape, with single values swapped for hostile ones."""
    return {
        "FV": draw(sometimes_bad(st.just("1.0"))),
        "GI": draw(sometimes_bad(st.just("EVKIOSK SIM"))),
        "PG": draw(sometimes_bad(st.sampled_from(["T1", "T17", "F3", "T1", "X1", "T99999999999"]))),
        "MS": draw(sometimes_bad(st.text(max_size=12))),
        "IS": draw(sometimes_bad(st.booleans())),
        "TT": draw(sometimes_bad(st.text(max_size=260))),
        "RD": draw(sometimes_bad(st.lists(_ocmf_reading(), max_size=4))),
    }


_RECORD_EDITS = st.sampled_from(["none"] * 5 + ["cut", "pipe", "digit", "nul", "nest"])


@st.composite
def ocmf_texts(draw: st.DrawFn, encode: Any) -> str:
    """A record text from a hostile payload, then maybe cut, split or changed by one byte."""
    text: str = encode(draw(ocmf_payloads()))
    edit = draw(_RECORD_EDITS)
    # A position as a share of the length: signatures differ in length from run to run.
    where = len(text) * draw(st.integers(0, 999)) // 1000
    if edit == "cut":
        text = text[:where]
    elif edit == "pipe":
        text = text[:where] + "|" + text[where:]
    elif edit == "digit":
        text = text[:where] + draw(st.sampled_from('09.-eE"{')) + text[where + 1 :]
    elif edit == "nul":
        text = text[:where] + "\x00" + text[where:]
    elif edit == "nest":
        text = "OCMF|" + "[" * 5000 + "|{}"
    return text
