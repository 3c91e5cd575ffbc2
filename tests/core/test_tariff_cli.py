"""`evkiosk tariff price|show` run as an operator runs it: real files, exit codes, stdout and
stderr, through the CLI's main(argv); a priced CDR and a bad file through the installed
`evkiosk` script as a process of its own."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.evkiosk_cli import Ran
from tests.evkiosk_cli import evkiosk as run_evkiosk

ROOT = Path(__file__).parents[2]
SAMPLES = ROOT / "assets" / "samples"
EVKIOSK = str(Path(sys.executable).parent / "evkiosk")


def process(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`evkiosk tariff ARGS` through the installed console script."""
    return subprocess.run(
        [EVKIOSK, "tariff", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def evkiosk(*args: str | Path) -> Ran:
    """`evkiosk tariff ARGS` through the CLI's main(argv), in this process."""
    return run_evkiosk("tariff", *map(str, args))


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / name).read_text(), parse_float=Decimal)
    return loaded


def write(path: Path, obj: object) -> Path:
    # A Decimal is written as the JSON number it is, exponent and all (1E+999999).
    text = json.dumps(obj, default=lambda d: f"\x00{d}\x00")
    path.write_text(re.sub(r'"\\u0000(.*?)\\u0000"', r"\1", text))
    return path


def test_price_json_has_the_cdr_fields_and_exact_numbers() -> None:
    done = process(
        "price", SAMPLES / "tariff.json", SAMPLES / "cdr.json", "--tz", "Europe/Berlin", "--json"
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout, parse_float=Decimal)
    assert out == {
        "currency": "EUR",
        "total_cost": {"excl_vat": Decimal("15.52"), "incl_vat": Decimal("18.47")},
        "total_fixed_cost": {"excl_vat": Decimal("0.41"), "incl_vat": Decimal("0.49")},
        "total_energy_cost": {"excl_vat": Decimal("14.10"), "incl_vat": Decimal("16.78")},
        "total_time_cost": None,
        "total_parking_cost": {"excl_vat": Decimal("1.01"), "incl_vat": Decimal("1.20")},
        "total_energy": Decimal("26.345"),
        "total_time": Decimal("0.95"),
        "total_parking_time": Decimal("0.2"),
    }
    assert '"excl_vat": 14.10' in done.stdout  # written digit for digit, never via float


def test_price_defaults_to_utc() -> None:
    done = evkiosk("price", SAMPLES / "tariff.json", SAMPLES / "cdr.json", "--json")
    assert done.returncode == 0, done.stderr
    # in UTC the session (15:40-16:37) misses the 17:00 peak: 26.345 x 0.59 = 15.54355
    assert json.loads(done.stdout)["total_energy_cost"]["incl_vat"] == 15.54


def test_price_text_report() -> None:
    done = evkiosk("price", SAMPLES / "tariff.json", SAMPLES / "cdr.json", "--tz", "Europe/Berlin")
    assert done.returncode == 0, done.stderr
    total = next(line for line in done.stdout.splitlines() if line.startswith("Total"))
    assert total.split() == ["Total", "15.52", "18.47", "EUR"]


def test_the_cdr_totals_are_ignored(tmp_path: Path) -> None:
    cdr = sample("cdr.json")
    cdr["total_cost"] = {"excl_vat": 1, "incl_vat": 1}
    done = evkiosk("price", SAMPLES / "tariff.json", write(tmp_path / "c.json", cdr), "--json")
    assert json.loads(done.stdout)["total_cost"]["incl_vat"] == 17.23


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["€0.69 per kWh (Mon–Fri, 17:00–21:00", "€0.49 per session", "€50.00"]),
        ("de", ["0,69 € pro kWh (Mo–Fr, 17:00–21:00", "0,49 € pro Ladevorgang", "50,00 €"]),
        # French typography: a no-break space between the amount and the euro sign.
        (
            "fr",
            [
                "0,69\u00a0€ par kWh (lun.–ven., 17:00–21:00",
                "0,49\u00a0€ par session",
                "50,00\u00a0€",
            ],
        ),
    ],
)
def test_show_lists_energy_first_in_each_language(lang: str, expected: list[str]) -> None:
    done = evkiosk("show", SAMPLES / "tariff.json", "--lang", lang)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for text in expected:
        assert any(text in line for line in lines), (text, lines)
    assert "kWh" in lines[1] and "kWh" in lines[2]
    parking = next(line for line in lines if "6,00" in line or "6.00" in line)
    assert {"en": "per started minute", "de": "je angefangene Minute", "fr": "minute entamée"}[
        lang
    ] in parking
    alt = {"en": "Parking fee applies", "de": "Die Standgebühr gilt", "fr": None}[lang]
    assert alt is None or any(alt in line for line in lines)


# ---------------------------------------------------------------- bad input: exit 2, field named


def _tariff_with(change: Any) -> dict[str, Any]:
    tariff = copy.deepcopy(sample("tariff.json"))
    change(tariff)
    return tariff


BAD_TARIFFS = [
    (lambda t: t.pop("currency"), "tariff: currency: missing"),
    (lambda t: t.update(currency="EURO"), "tariff: currency: 'EURO' is not an ISO 4217"),
    (lambda t: t.update(elements=[]), "tariff: elements: must not be empty"),
    (
        lambda t: t["elements"][1]["price_components"][0].update(price=-0.59),
        "tariff: elements[1].price_components[0].price: must not be negative",
    ),
    (
        lambda t: t["elements"][2]["price_components"][0].update(type="PARKING"),
        "tariff: elements[2].price_components[0].type: unknown value 'PARKING'",
    ),
    (
        lambda t: t["elements"][0]["restrictions"].update(start_time="25:00"),
        "tariff: elements[0].restrictions.start_time: '25:00' is not a time of day",
    ),
    (
        lambda t: t["elements"][0]["restrictions"].update(end_time="5pm"),
        "tariff: elements[0].restrictions.end_time: '5pm' is not a time of day",
    ),
    (
        lambda t: t["elements"][0]["restrictions"].update(day_of_week=["MONTAG"]),
        "tariff: elements[0].restrictions.day_of_week[0]: unknown day 'MONTAG'",
    ),
    (
        lambda t: t["elements"][0]["restrictions"].update(start_date="2025-02-30"),
        "tariff: elements[0].restrictions.start_date: '2025-02-30' is not a date",
    ),
    (
        lambda t: t["elements"][1]["price_components"][0].pop("step_size"),
        "tariff: elements[1].price_components[0].step_size: missing",
    ),
    (
        lambda t: t["elements"][1]["price_components"][0].update(step_size=1.5),
        "tariff: elements[1].price_components[0].step_size: expected a whole number",
    ),
    (
        lambda t: t["elements"][0]["restrictions"].update(maxkwh=5),
        "tariff: elements[0].restrictions.maxkwh: unknown field",
    ),
    (
        lambda t: t["elements"][0]["restrictions"].update(min_kwh=20, max_kwh=10),
        "tariff: elements[0].restrictions.max_kwh: must be greater than min_kwh",
    ),
    (lambda t: t.update(tax_included="MAYBE"), "tariff: tax_included: unknown value 'MAYBE'"),
    (
        lambda t: t.update(preauthorize_amount="lots"),
        "tariff: preauthorize_amount: 'lots' is not a decimal number",
    ),
    (
        lambda t: t.update(min_price={"before_taxes": 10}, max_price={"before_taxes": 5}),
        "tariff: max_price: is below min_price",
    ),
    (lambda t: t.update(elements={"a": 1}), "tariff: elements: expected a list, got an object"),
    # Found by fuzzing: each crashed with a traceback or ran for about 50 s.
    (
        lambda t: t["elements"][0]["price_components"][0].update(type={}),
        "tariff: elements[0].price_components[0].type: expected one of: ENERGY",
    ),
    (lambda t: t.update(tax_included=[]), "tariff: tax_included: expected one of: YES, NO, N/A"),
    (
        lambda t: t.update(max_price={"excl_vat": 1, "incl_vat": Decimal("1.1e27")}),
        "tariff: max_price.incl_vat: must be at most 1,000,000,000, got 1.1E+27",
    ),
    (
        lambda t: t["elements"][0]["price_components"][0].update(vat=Decimal("1E+999999")),
        "tariff: elements[0].price_components[0].vat: must be at most 100 %",
    ),
    (
        lambda t: t["elements"][0]["price_components"][0].update(step_size=Decimal("1E+999999")),
        "tariff: elements[0].price_components[0].step_size: must be at most 10,000,000",
    ),
    (
        lambda t: t["elements"][0]["price_components"][0].update(price=Decimal("0.12345")),
        "tariff: elements[0].price_components[0].price: has more than 4 decimals: 0.12345",
    ),
]


@pytest.mark.parametrize(("change", "message"), BAD_TARIFFS)
def test_bad_tariff_names_the_field(tmp_path: Path, change: Any, message: str) -> None:
    path = write(tmp_path / "tariff.json", _tariff_with(change))
    for args in (("price", path, SAMPLES / "cdr.json"), ("show", path)):
        done = evkiosk(*args)
        assert done.returncode == 2
        assert done.stderr.startswith(f"evkiosk tariff: {message}"), done.stderr
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert done.stdout == ""


def _cdr_with(change: Any) -> dict[str, Any]:
    cdr = copy.deepcopy(sample("cdr.json"))
    change(cdr)
    return cdr


BAD_CDRS = [
    (lambda c: c.pop("end_date_time"), "cdr: end_date_time: missing"),
    (
        lambda c: c.update(start_date_time="yesterday"),
        "cdr: start_date_time: 'yesterday' is not an RFC 3339 date-time",
    ),
    (lambda c: c.update(charging_periods=[]), "cdr: charging_periods: must not be empty"),
    (
        lambda c: c["charging_periods"][0]["dimensions"][0].update(volume=-1),
        "cdr: charging_periods[0].dimensions[0].volume: must not be negative",
    ),
    (
        lambda c: c["charging_periods"][1]["dimensions"][0].update(type="KWH"),
        "cdr: charging_periods[1].dimensions[0].type: unknown dimension 'KWH'",
    ),
    (
        lambda c: c["charging_periods"][2].update(start_date_time="2025-03-04T15:50:00Z"),
        "cdr: charging_periods[2].start_date_time: is before the previous period's start",
    ),
    (
        lambda c: c.update(end_date_time="2025-03-04T15:00:00Z"),
        "cdr: end_date_time: is before start_date_time",
    ),
    (lambda c: c.update(currency="GBP"), "cdr: currency: GBP differs from the tariff's EUR"),
    (
        lambda c: c["charging_periods"][0]["dimensions"][0].update(volume=Decimal("3.3e26")),
        "cdr: charging_periods[0].dimensions[0].volume: must be at most",
    ),
]


@pytest.mark.parametrize(("change", "message"), BAD_CDRS)
def test_bad_cdr_names_the_field(tmp_path: Path, change: Any, message: str) -> None:
    path = write(tmp_path / "cdr.json", _cdr_with(change))
    done = evkiosk("price", SAMPLES / "tariff.json", path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"evkiosk tariff: {message}"), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON: Expecting property name enclosed in double quotes at line 1"),
        ("[1, 2]", "expected a JSON object, got a list"),
        ('{"price": NaN}', "NaN is not a number"),
        (b"\xff\xfe", "cannot read"),
    ],
)
def test_broken_files(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "broken.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    done = evkiosk("show", path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_file_and_bad_zone(tmp_path: Path) -> None:
    done = process("show", tmp_path / "nope.json")
    assert done.returncode == 2
    assert "cannot read" in done.stderr
    assert "No such file or directory" in done.stderr
    done = evkiosk("price", SAMPLES / "tariff.json", SAMPLES / "cdr.json", "--tz", "Mars/Olympus")
    assert done.returncode == 2
    assert "--tz: unknown time zone 'Mars/Olympus'" in done.stderr


def test_usage_errors_exit_2() -> None:
    assert evkiosk().returncode == 2
    assert evkiosk("price", SAMPLES / "tariff.json").returncode == 2
    assert evkiosk("show", SAMPLES / "tariff.json", "--lang", "xx").returncode == 2


def test_session_outside_the_tariff_validity_is_priced_with_a_warning(tmp_path: Path) -> None:
    tariff = sample("tariff.json")
    tariff["end_date_time"] = "2025-01-01T00:00:00Z"
    done = evkiosk("price", write(tmp_path / "t.json", tariff), SAMPLES / "cdr.json", "--json")
    assert done.returncode == 0
    assert "warning: the session starts outside the tariff's validity" in done.stderr
    assert json.loads(done.stdout)["currency"] == "EUR"
