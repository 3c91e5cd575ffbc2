"""The Jinja2 environment for every page the backend renders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from backend import jsonutil

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
)


def duration(value: timedelta) -> str:
    """A report age or lag as the operator reads it: "3 d 4 h", "2 h 05 min", "40 s"."""
    seconds = int(value.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min"
    return f"{sign}{minutes} min {secs:02d} s" if minutes else f"{sign}{secs} s"


def kwh(wh: int) -> str:
    return f"{Decimal(wh) / 1000:.3f}"


def pretty_json(value: Any) -> str:
    return jsonutil.dumps(value, indent=2)


env.filters.update(duration=duration, kwh=kwh, pretty_json=pretty_json)
