"""A tariff snapshot is parsed once per distinct snapshot, and each session stores the exact
JSON its station sent, even when two snapshots differ only in how a number is written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend import jsonutil
from backend.pricing import TariffError, checked_snapshot
from tests.backend.conftest import tariff


def exact(text: str) -> dict[str, Any]:
    value = jsonutil.loads(text)
    assert isinstance(value, dict)
    return value


def test_the_same_snapshot_is_parsed_once() -> None:
    text = json.dumps(tariff())
    first = checked_snapshot(exact(text), "EUR")
    assert checked_snapshot(exact(text), "EUR") is first  # an equal object from another report
    assert jsonutil.loads(first.text) == exact(text)


def test_snapshots_that_differ_in_how_a_number_is_written_keep_their_own_text() -> None:
    plain = json.dumps(tariff())
    assert '"price": 0.49' in plain
    padded = plain.replace('"price": 0.49', '"price": 0.490')
    as_string = plain.replace('"price": 0.49', '"price": "0.49"')
    a = checked_snapshot(exact(plain), "EUR")
    b = checked_snapshot(exact(padded), "EUR")
    assert a is not b
    assert '"price": 0.49,' in a.text
    assert '"price": 0.490,' in b.text
    c = checked_snapshot(exact(as_string), "EUR")  # the string "0.49", not the number
    assert c is not a
    assert '"price": "0.49",' in c.text


def test_a_cached_snapshot_is_still_checked_against_the_report_currency() -> None:
    text = json.dumps(tariff())
    checked_snapshot(exact(text), "EUR")
    with pytest.raises(TariffError) as caught:
        checked_snapshot(exact(text), "CHF")
    assert caught.value.field == "currency"
