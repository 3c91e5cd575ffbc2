"""Properties of the locale formatting and the language-file loader (hypothesis)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.money import minor_unit_exponent
from kiosk.snapshot import Amount
from ui.i18n import I18N_DIR, LanguageFileError, load_language, load_languages

LANGS = load_languages()


def parse_back(text: str, decimal: str, group: str) -> Decimal:
    return Decimal(text.replace(group, "").replace(decimal, "."))


@settings(max_examples=200, deadline=None)
@given(
    code=st.sampled_from(sorted(LANGS)),
    minor=st.integers(min_value=-(10**12), max_value=10**12),
    currency=st.sampled_from(["EUR", "GBP", "CHF", "JPY", "KWD"]),
)
def test_money_text_reads_back_as_the_same_minor_units(
    code: str, minor: int, currency: str
) -> None:
    lang = LANGS[code]
    text = lang.money(Amount(minor, currency))
    symbol = lang.symbols.get(currency, currency + " ").strip()
    number = text.replace(symbol, "").replace("-", "").strip()
    value = parse_back(number, lang.decimal, lang.group)
    exponent = minor_unit_exponent(currency)
    assert value.scaleb(exponent) == abs(minor)
    assert text.startswith("-") == (minor < 0)


@settings(max_examples=100, deadline=None)
@given(st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=6))
def test_numbers_round_half_even_like_the_core(value: Decimal) -> None:
    for lang in LANGS.values():
        text = lang.number(value, 2)
        rounded = value.quantize(Decimal("0.01"), rounding="ROUND_HALF_EVEN")
        assert parse_back(text, lang.decimal, lang.group) == rounded
        assert not text.startswith("-0" + lang.decimal + "00")  # no negative zero


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(
    data=json_values, meta_key=st.sampled_from(["code", "name", "decimal", "symbols", "strings"])
)
def test_any_broken_language_file_is_refused_with_its_name(
    tmp_path_factory: pytest.TempPathFactory, data: object, meta_key: str
) -> None:
    tmp: Path = tmp_path_factory.mktemp("lang")
    good = json.loads((I18N_DIR / "de.json").read_text())
    for candidate in (
        data,
        {**good, "meta": {**good["meta"], meta_key: data}},
        {**good, meta_key: data},
    ):
        path = tmp / "de.json"
        path.write_text(json.dumps(candidate))
        try:
            lang = load_language(path)
        except LanguageFileError as exc:
            assert str(exc).startswith("de.json: ")
        else:
            assert lang.code == "de"
