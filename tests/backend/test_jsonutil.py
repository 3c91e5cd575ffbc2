"""Exact-decimal JSON (backend.jsonutil): every Decimal written digit for digit, and data that
looks like the writer's own marks written as the data it is."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend import json_rows, jsonutil

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def test_strings_that_look_like_a_marked_decimal_stay_strings() -> None:
    value = {"a": "\x00dec:5", "\x00dec:7": [1, "\x00" + "0" * 16 + ":9"], "d": Decimal("0.490")}
    text = jsonutil.dumps(value)
    assert jsonutil.loads(text) == value
    assert '"d": 0.490' in text


@given(JSON_VALUES)
def test_what_is_written_reads_back_the_same(value: object) -> None:
    text = jsonutil.dumps(value)
    back = jsonutil.loads(text)
    assert back == value
    assert jsonutil.dumps(back) == text  # the same digits: 0.490 stays 0.490


@given(st.dictionaries(st.sampled_from(["cdr", "computed", "response"]), JSON_VALUES))
def test_a_row_document_writes_json_columns_as_the_serializer_does(columns: dict) -> None:
    # The answers table's `body` is a JSON column; its other columns are scalars.
    row = {"station_id": "ST", "key": "k", "endpoint": "sessions", "body": columns}
    docs = json_rows.documents([], [], [row])
    if docs is None:  # a NUL character: those rows take the per-column INSERT
        assert "\\u0000" in jsonutil.dumps(columns)
        return
    (written,) = json.loads(docs["answers"], parse_float=Decimal)
    assert jsonutil.dumps(written["body"]) == jsonutil.dumps(columns)
    assert f'"body":{jsonutil.dumps(columns)}' in docs["answers"]


def test_floats_are_refused_by_the_serializer() -> None:
    with pytest.raises(TypeError, match="float refused"):
        jsonutil.dumps({"a": [0.5]})


@given(JSON_VALUES)
def test_written_as_json_dumps_writes_it_with_exact_numbers(value: object) -> None:
    # The reference: the standard library's writer, each Decimal put in as its digits.
    reference = jsonutil.unmark(json.dumps(jsonutil._mark(value), ensure_ascii=True))
    assert jsonutil.dumps(value) == reference
