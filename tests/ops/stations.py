"""Station configs for the operator tooling tests."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"


def station_toml(
    tmp: Path,
    *,
    terminal: str = 'hardware = "simulated"',
    meter: str = 'hardware = "simulated"',
    controller: str = 'hardware = "simulated"',
    backend: str | None = None,
    journal: str = "journal.db",
) -> Path:
    """A one-connector station config in `tmp`, with the given device tables' bodies."""
    (tmp / "tariff.json").write_text((SAMPLES / "tariff.json").read_text(encoding="utf-8"))
    text = f"""
[station]
name = "Test"
timezone = "Europe/Berlin"
journal = "{journal}"

[terminal]
{terminal}

[meters.m1]
{meter}

[controllers.c1]
{controller}

[[connector]]
id = "1"
type = "Type 2"
max_kw = 11
tariff = "tariff.json"
meter = "m1"
controller = "c1"
"""
    if backend is not None:
        text += f"\n[backend]\n{backend}\n"
    path = tmp / "station.toml"
    path.write_text(text, encoding="utf-8")
    return path
